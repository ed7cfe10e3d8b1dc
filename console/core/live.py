"""Live parts of console pages: a page's fragment rendered alone when ``static/console/live.js``
polls it (``?fragment=<name>``), the tail of a job's log, and the whole log as a download."""

from __future__ import annotations

from collections.abc import Mapping

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.cache import get_conditional_response, patch_cache_control, set_response_etag

# Lines of a log a page shows (and re-sends on each poll); the download has them all.
LOG_TAIL_LINES = 1000


def live_render(
    request, template: str, context: Mapping, *, fragments: Mapping[str, str]
) -> HttpResponse:
    """The page, or with ``?fragment=<name>`` that fragment's template alone: the same include
    the page renders, so the two never differ. A fragment answers 304 when it has not changed."""
    name = request.GET.get("fragment")
    if name is None:
        return render(request, template, context)
    if name not in fragments:
        rule = f"Member must be one of {', '.join(sorted(fragments))}"
        return JsonResponse(
            {"detail": f"fragment: {rule} (not {name!r}).", "field": "fragment"}, status=400
        )
    response = render(request, fragments[name], context)
    patch_cache_control(response, private=True, no_cache=True)
    set_response_etag(response)
    return get_conditional_response(request, etag=response["ETag"], response=response)


def log_tail(text: str, *, lines: int = LOG_TAIL_LINES) -> tuple[str, int]:
    """The last ``lines`` lines of a log, and how many lines came before them."""
    kept = text.splitlines(keepends=True)
    return "".join(kept[-lines:]), max(len(kept) - lines, 0)


def log_context(text: str, *, download_url: str) -> dict:
    """What ``live/_log.html`` shows of a log: its tail, how much came before, the download."""
    tail, skipped = log_tail(text)
    return {
        "log": tail,
        "log_skipped": skipped,
        "log_lines": LOG_TAIL_LINES,
        "log_download_url": download_url,
    }


def log_download(text: str, *, filename: str) -> HttpResponse:
    """The whole log as a plain-text file named ``filename``."""
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
