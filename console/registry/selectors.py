"""Reads of registered models."""

from django.db.models import QuerySet

from console.core.selectors import visible_to
from console.registry.models import Model


def model_list(*, user) -> QuerySet[Model]:
    return visible_to(Model.objects.all(), user)
