"""Server-side pages and sort orders of the console's lists.

``?page=N`` (and ``?per_page=`` among PAGE_SIZES) pick a page; ``?sort=field`` or ``?sort=-field``
an order among the columns that are database fields. A page knows its neighbours' URLs and says
"showing x to y of N", so a list never stops at some row count without saying so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Paginator
from django.http import QueryDict

PAGE_SIZE = 20  # rows per page unless ?per_page= asks for another of PAGE_SIZES
PAGE_SIZES = (10, 20, 50, 100)


@dataclass(frozen=True)
class Page:
    items: list[Any]
    number: int
    pages: int
    count: int
    start: int  # 1-based position of the first row shown; 0 when there is none
    end: int
    per_page: int
    previous_url: str  # "" on the first page
    next_url: str  # "" on the last page


def query_with(query: QueryDict, **changes: Any) -> str:
    """``?...`` of ``query`` with ``changes`` set (a None value drops that parameter)."""
    params = query.copy()
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


def page_size(query: QueryDict) -> int:
    try:
        size = int(query.get("per_page", PAGE_SIZE))
    except ValueError:
        return PAGE_SIZE
    return size if size in PAGE_SIZES else PAGE_SIZE


def page_of(items: Sequence | Any, *, query: QueryDict, size: int | None = None) -> Page:
    """The page of ``items`` (a queryset or a list) that ``query`` asks for; a page number past
    the end, or not a number, gives the last or the first page."""
    per_page = size or page_size(query)
    paginator = Paginator(items, per_page)
    page = paginator.get_page(query.get("page"))
    rows = list(page.object_list)
    start = page.start_index() if rows else 0
    return Page(
        items=rows,
        number=page.number,
        pages=paginator.num_pages,
        count=paginator.count,
        start=start,
        end=start + len(rows) - 1 if rows else 0,
        per_page=per_page,
        previous_url=query_with(query, page=page.number - 1) if page.has_previous() else "",
        next_url=query_with(query, page=page.number + 1) if page.has_next() else "",
    )


def sort_key(query: QueryDict, *, allowed: Sequence[str], default: str) -> str:
    """The ``?sort=`` asked for when it names an allowed field (``-`` for descending), else the
    default."""
    asked = query.get("sort", "")
    return asked if asked.removeprefix("-") in allowed else default


def sort_links(query: QueryDict, *, current: str, field: str) -> dict[str, str]:
    """A column heading's link and state: a click sorts by the field, a second click reverses.

    A newly chosen column starts descending for times (newest first), ascending otherwise.
    """
    ascending = "ascending" if current == field else ""
    descending = "descending" if current == f"-{field}" else ""
    if ascending:
        target = f"-{field}"
    elif descending:
        target = field
    else:
        target = f"-{field}" if field.endswith("_at") else field
    return {"url": query_with(query, sort=target, page=None), "state": ascending or descending}
