"""Read helpers every resource's selectors use."""

from __future__ import annotations

from django.db.models import Model, QuerySet


def visible_to(queryset: QuerySet, user) -> QuerySet:
    """A user sees only their own resources; staff see everyone's."""
    if user.is_staff:
        return queryset
    return queryset.filter(owner=user)


def get_visible(queryset: QuerySet, *, user, name: str) -> Model | None:
    return visible_to(queryset, user).filter(name=name).first()
