"""Console pages shared by every resource: home, stack status, and the resource list page."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import connection
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from console.core import display, errors, paging
from console.core.health import STACK_CHECK_NAMES, stack_checks
from console.core.live import live_render
from infra.config import settings
from infra.health import Health


@login_required
def home(request):
    """What is running, what failed lately and why, how the endpoints are. ``?fragment=panels`` is
    the panels alone, which the page polls."""
    # Here, not at the top: the dashboard reads every app's selectors, and those apps' views
    # import this module.
    from console.core.dashboard import dashboard_endpoints, dashboard_failures, dashboard_running

    running, running_total = dashboard_running(user=request.user)
    endpoints, endpoint_counts = dashboard_endpoints(user=request.user)
    context = {
        "running": running,
        "running_total": running_total,
        "failures": dashboard_failures(user=request.user),
        "endpoints": endpoints,
        "endpoint_counts": endpoint_counts,
    }
    return live_render(
        request, "core/home.html", context, fragments={"panels": "core/_home_panels.html"}
    )


def database_health() -> Health:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return Health("Database", True, connection.vendor)
    except Exception as exc:
        return Health("Database", False, str(exc)[:300])


@login_required
def status(request):
    """The stack's processes: the web and the database checked now, the rest from the cache
    (``console.core.health.stack_checks``), so the page answers at once. ``?fragment=checks`` is
    the table alone, which the page polls."""
    config = settings()
    cached = stack_checks()
    checks = [Health("Web", True, f"serving this page on port {config.port}"), database_health()]
    if cached.checked_at is None:
        checks += [Health(name, None, "checking…") for name in STACK_CHECK_NAMES]
    else:
        checks += cached.checks
    context = {
        "checks": checks,
        "checked_ago": None if cached.checked_at is None else time.time() - cached.checked_at,
        "refreshing": cached.refreshing,
        "settings": config,
    }
    return live_render(
        request, "core/status.html", context, fragments={"checks": "core/_status_checks.html"}
    )


class ResourceListPage(LoginRequiredMixin, TemplateView):
    """A table of one resource's rows: filterable by status and name, sorted by any column that is
    a database field (``?sort=``), and shown a page at a time (``?page=``).

    ``columns`` are ``(heading, attribute)`` pairs; the attribute is a field name or a function of
    the row (``console.core.display.duration``; one that returns safe HTML, a link or a progress
    bar, is shown as such, and one made by ``link_column`` sorts by its field). ``statuses`` is the
    resource's status enum. The columns of DERIVED_COLUMNS that say something of the page's rows
    (a job's algorithm, a tuning job's objective, a job's duration) are added before "Created",
    unless ``derived_columns`` is off.
    """

    template_name = "core/resource_list.html"
    title = ""
    selector = None
    columns: list[tuple[str, str | Callable]] = []
    statuses: list[str] = []
    sagemaker_operation = ""
    detail_url_name = ""  # the row's page, by name: the first column links to it
    create_url_name = ""  # the create form, when the console has one
    default_sort = "-created_at"
    derived_columns = True

    def get_context_data(self, **kwargs):
        query = self.request.GET
        queryset = self.selector(user=self.request.user)
        fields = {field.name for field in queryset.model._meta.concrete_fields}
        sortable = [_sort_field(attr) for _, attr in self.columns if _sort_field(attr) in fields]
        sort = paging.sort_key(query, allowed=sortable, default=self.default_sort)
        queryset = queryset.order_by(sort, "-pk" if sort.startswith("-") else "pk")
        status = query.get("status", "")
        name = query.get("name", "")
        if status and self.statuses:
            queryset = queryset.filter(status=status)
        if name:
            queryset = queryset.filter(name__icontains=name)
        page = paging.page_of(queryset, query=query)
        columns = self._columns(page.items)
        rows = [
            {
                "cells": [display.cell(_value(row, attr)) for _, attr in columns],
                "url": reverse(self.detail_url_name, args=[row.name])
                if self.detail_url_name
                else "",
            }
            for row in page.items
        ]
        headings = [
            {
                "label": heading,
                "attr": attr if isinstance(attr, str) else "",
                **(
                    paging.sort_links(query, current=sort, field=_sort_field(attr))
                    if _sort_field(attr) in sortable
                    else {}
                ),
            }
            for heading, attr in columns
        ]
        return {
            **super().get_context_data(**kwargs),
            "title": self.title,
            "headings": headings,
            "rows": rows,
            "page": page,
            "filtered": bool(status or name),
            "statuses": self.statuses,
            "status": status,
            "name": name,
            "sort": sort,
            "sagemaker_operation": self.sagemaker_operation,
            "create_url": reverse(self.create_url_name) if self.create_url_name else "",
        }

    def _columns(self, rows: list) -> list[tuple[str, str | Callable]]:
        if not self.derived_columns:
            return list(self.columns)
        headings = {heading for heading, _ in self.columns}
        derived = [
            (heading, function)
            for heading, function in DERIVED_COLUMNS
            if heading not in headings and any(function(row) for row in rows)
        ]
        attrs = [attr for _, attr in self.columns]
        at = attrs.index("created_at") if "created_at" in attrs else len(attrs)
        return [*self.columns[:at], *derived, *self.columns[at:]]


# Columns any list may show, where its rows have something to say in them.
DERIVED_COLUMNS = [
    ("Algorithm", display.algorithm),
    ("Objective", display.objective),
    ("Duration", display.duration),
]


def _value(row, attr):
    return attr(row) if callable(attr) else getattr(row, attr)


def _sort_field(attr: str | Callable) -> str:
    """The database field a column sorts by: its own name, or a link column's field."""
    return attr if isinstance(attr, str) else getattr(attr, "sort_field", "")


def link_column(field: str, url_name: str) -> Callable:
    """A column showing ``field`` as a link to the page of the object it names (``url_name``),
    sorted by that field: a transform job's model."""

    def link(row) -> SafeString | str:
        value = getattr(row, field)
        if not value:
            return ""
        return format_html('<a href="{}">{}</a>', reverse(url_name, args=[value]), value)

    link.sort_field = field
    return link


def progress_cell(percent: int, text: str, *, title: str) -> SafeString:
    """A list's progress bar, with its figure beside it for those who do not see the bar."""
    return format_html(
        '<progress max="100" value="{}" title="{}"></progress> {}', percent, title, text
    )


def get_or_404(selector, **kwargs):
    """``selector(**kwargs)``, with its NotFound shown as the console's 404 page."""
    try:
        return selector(**kwargs)
    except errors.NotFound as exc:
        raise Http404(exc.message) from None


def stop_view(stop_service, *, detail_url_name: str, message: str):
    """A POST view calling ``stop_service(user=, name=)`` and going back to the detail page."""

    @login_required
    @require_POST
    def stop(request, name: str):
        try:
            stop_service(user=request.user, name=name)
            messages.success(request, message.format(name=name))
        except (errors.InvalidState, errors.NotFound) as exc:
            messages.error(request, exc.message)
        return redirect(detail_url_name, name=name)

    return stop


def request_form_page(
    request,
    form,
    create_service,
    *,
    title: str,
    list_url_name: str,
    list_label: str,
    detail_url_name: str,
    done: str,
):
    """A create form's page: on a valid POST, ``form.submit(create_service)`` and go to the new
    row's page (``done`` is the message, with ``{name}``); else the form with its errors."""
    if request.method == "POST" and form.is_valid():
        created = form.submit(create_service, user=request.user)
        if created is not None:
            messages.success(request, done.format(name=created.name))
            return redirect(detail_url_name, name=created.name)
    context = {
        "form": form,
        "title": title,
        "back_url_name": list_url_name,
        "back_label": list_label,
    }
    return render(request, "core/request_form.html", context)
