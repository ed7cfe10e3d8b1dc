"""Console pages shared by every resource: home, stack status, and the resource list page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import connection
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from console.core import errors
from console.core.context_processors import NAVIGATION
from infra.config import settings
from infra.health import Health, stack_health


@login_required
def home(request):
    return render(request, "core/home.html", {"sections": NAVIGATION[:7]})


def database_health() -> Health:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return Health("Database", True, connection.vendor)
    except Exception as exc:
        return Health("Database", False, str(exc)[:300])


@login_required
def status(request):
    config = settings()
    checks = [Health("Web", True, f"serving this page on port {config.port}"), database_health()]
    checks += stack_health(config)
    return render(request, "core/status.html", {"checks": checks, "settings": config})


class ResourceListPage(LoginRequiredMixin, TemplateView):
    """A table of one resource's rows, filterable by status and name.

    ``columns`` are ``(heading, attribute)`` pairs; ``statuses`` the resource's status enum.
    """

    template_name = "core/resource_list.html"
    title = ""
    selector = None
    columns: list[tuple[str, str]] = []
    statuses: list[str] = []
    sagemaker_operation = ""
    detail_url_name = ""  # the row's page, by name: the first column links to it
    create_url_name = ""  # the create form, when the console has one

    def get_context_data(self, **kwargs):
        queryset = self.selector(user=self.request.user).order_by("-created_at", "-pk")
        status = self.request.GET.get("status", "")
        name = self.request.GET.get("name", "")
        if status and self.statuses:
            queryset = queryset.filter(status=status)
        if name:
            queryset = queryset.filter(name__icontains=name)
        rows = [
            {
                "cells": [getattr(row, attr) for _, attr in self.columns],
                "url": reverse(self.detail_url_name, args=[row.name])
                if self.detail_url_name
                else "",
            }
            for row in queryset[:200]
        ]
        return {
            **super().get_context_data(**kwargs),
            "title": self.title,
            "headings": [heading for heading, _ in self.columns],
            "rows": rows,
            "statuses": self.statuses,
            "status": status,
            "name": name,
            "sagemaker_operation": self.sagemaker_operation,
            "create_url": reverse(self.create_url_name) if self.create_url_name else "",
        }


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
