"""Template helpers of the live job pages: ``{{ time|utc }}`` (to the second, in UTC, in a
``<time>`` element) and ``{% elapsed started ended %}``, a counter that ``console/live.js`` ticks
while the job runs."""

from __future__ import annotations

from datetime import UTC, datetime

from django import template
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html

from console.core import display

register = template.Library()


def _datetime(value) -> datetime | None:
    """A datetime from what describe responses and models hold: datetimes, epoch seconds, ISO."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        moment = datetime.fromtimestamp(value, tz=UTC)
    elif isinstance(value, str) and value:
        moment = parse_datetime(value)
        if moment is None:
            return None
    else:
        return None
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@register.filter
def utc(value) -> str:
    """``2026-12-07 01:02:03 UTC``, or nothing for no time."""
    moment = _datetime(value)
    if moment is None:
        return ""
    return format_html(
        '<time datetime="{}">{}</time>',
        moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        moment.strftime("%Y-%m-%d %H:%M:%S UTC"),
    )


@register.simple_tag
def elapsed(started, ended=None) -> str:
    """How long a job has run: ticking (``data-since``) until it has ended, then fixed."""
    start, end = _datetime(started), _datetime(ended)
    if start is None:
        return ""
    if end is not None:
        return format_html('<span class="elapsed">{}</span>', display.span(end - start))
    return format_html(
        '<span class="elapsed" data-since="{}">{}</span>',
        start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        display.span(timezone.now() - start),
    )
