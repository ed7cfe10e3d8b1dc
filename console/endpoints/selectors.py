"""Reads of endpoint configs and endpoints."""

from django.db.models import QuerySet

from console.core.selectors import visible_to
from console.endpoints.models import Endpoint, EndpointConfig


def endpoint_config_list(*, user) -> QuerySet[EndpointConfig]:
    return visible_to(EndpointConfig.objects.all(), user)


def endpoint_list(*, user) -> QuerySet[Endpoint]:
    return visible_to(Endpoint.objects.select_related("config"), user)
