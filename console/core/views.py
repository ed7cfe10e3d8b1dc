"""Console pages shared by every resource: home, stack status, and the resource list page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import connection
from django.shortcuts import render
from django.views.generic import TemplateView

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

    def get_context_data(self, **kwargs):
        queryset = self.selector(user=self.request.user).order_by("-created_at", "-pk")
        status = self.request.GET.get("status", "")
        name = self.request.GET.get("name", "")
        if status and self.statuses:
            queryset = queryset.filter(status=status)
        if name:
            queryset = queryset.filter(name__icontains=name)
        rows = [[getattr(row, attr) for _, attr in self.columns] for row in queryset[:200]]
        return {
            **super().get_context_data(**kwargs),
            "title": self.title,
            "headings": [heading for heading, _ in self.columns],
            "rows": rows,
            "statuses": self.statuses,
            "status": status,
            "name": name,
            "sagemaker_operation": self.sagemaker_operation,
        }
