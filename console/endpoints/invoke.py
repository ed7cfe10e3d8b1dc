"""Invoking an endpoint: the one service behind the runtime route, the REST API and the console.

:func:`endpoint_invoke` reads where the endpoint's traffic goes (kept for about a second, so a
stream of invocations costs no query each), checks that it serves, chooses the variant (the one
named, else one drawn by weight), sends the request on a serving client and waits for the reply.
It answers a typed outcome; each adapter maps outcomes to its own protocol. The caller's
``CustomAttributes`` travel to the model and the model's come back on :class:`Invoked`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from asgiref.sync import sync_to_async

from algorithms.inference_context import custom_attributes_problem
from console.endpoints.selectors import endpoint_routes
from infra.config import settings
from infra.serving import protocol, routing
from infra.serving.client import INVOCATION_TIMEOUT_S, ServingClient, serving_client

SERVING_STATUSES = ("InService", "Updating")  # an endpoint being updated keeps answering


@dataclass(frozen=True)
class Invoked:
    """The model answered."""

    body: bytes
    content_type: str
    variant_name: str
    elapsed_ms: float
    custom_attributes: str = ""  # what the model set; SageMaker answers nothing else


@dataclass(frozen=True)
class ModelFailed:
    """The model's instance answered with an error (``status`` is the status it gave)."""

    variant_name: str
    variant_id: str
    status: int
    message: str
    elapsed_ms: float


@dataclass(frozen=True)
class TimedOut:
    """No instance of the variant answered within the timeout."""

    variant_name: str
    variant_id: str
    message: str
    elapsed_ms: float


@dataclass(frozen=True)
class NotInService:
    """The endpoint is unknown to the caller (``status`` None), or not serving now."""

    endpoint_name: str
    status: str | None

    @property
    def reason(self) -> str:
        if self.status is None:
            return f"Endpoint {self.endpoint_name} not found."
        if self.status in SERVING_STATUSES:
            return f"Endpoint {self.endpoint_name} has no variant serving traffic."
        return (
            f"Endpoint {self.endpoint_name} is {self.status}: it answers invocations only "
            f"when {' or '.join(SERVING_STATUSES)}."
        )


@dataclass(frozen=True)
class UnknownVariant:
    """The caller named a target variant that does not serve this endpoint (bad input)."""

    endpoint_name: str
    target: str
    variant_names: tuple[str, ...]


@dataclass(frozen=True)
class BadInput:
    """A request field breaks its rule (named as InvokeEndpoint names it)."""

    field: str
    value: str
    rule: str


Outcome = Invoked | ModelFailed | TimedOut | NotInService | UnknownVariant | BadInput


@dataclass(frozen=True)
class _Cached:
    routes: list[routing.Route]
    until: float


_routes: dict[tuple[int, str], _Cached] = {}


async def endpoint_invoke(
    *,
    user,
    endpoint_name: str,
    body: bytes,
    content_type: str,
    accept: str,
    custom_attributes: str = "",
    target_variant: str | None = None,
    timeout: float = INVOCATION_TIMEOUT_S,
    shared_client: bool = False,
) -> Outcome:
    """Invoke ``endpoint_name`` as ``user``. ``shared_client``: the caller runs on a long-lived
    event loop (the ASGI server's), whose one serving client every request shares; otherwise a
    client is opened and closed for this call (each ``async_to_sync`` call has its own loop)."""
    if problem := custom_attributes_problem(custom_attributes):
        return BadInput("customAttributes", custom_attributes, problem)
    served = await _serving_routes(user, endpoint_name)
    if isinstance(served, NotInService):
        return served
    try:
        route = routing.choose(served, target_variant)
    except routing.NoSuchVariant:
        names = tuple(route.variant_name for route in served)
        return UnknownVariant(endpoint_name, target_variant or "", names)
    started = time.perf_counter()
    reply = await _send(
        route,
        body,
        shared_client=shared_client,
        content_type=content_type,
        accept=accept,
        custom_attributes=custom_attributes,
        timeout=timeout,
    )
    elapsed_ms = (time.perf_counter() - started) * 1000
    if reply.error == protocol.TIMED_OUT:
        return TimedOut(route.variant_name, route.variant_id, reply.message, elapsed_ms)
    if not reply.ok:
        return ModelFailed(
            route.variant_name, route.variant_id, reply.status, reply.message, elapsed_ms
        )
    return Invoked(
        reply.body, reply.content_type, route.variant_name, elapsed_ms, reply.custom_attributes
    )


async def _serving_routes(user, name: str) -> list[routing.Route] | NotInService:
    """The endpoint's routes while it serves. Only a serving endpoint's routes are kept, so one
    that has just become InService answers at once."""
    key = (user.pk, name)
    cached = _routes.get(key)
    if cached is None or cached.until < time.monotonic():
        endpoint, routes = await sync_to_async(endpoint_routes)(user=user, name=name)
        if endpoint is None or endpoint.status not in SERVING_STATUSES or not routes:
            _routes.pop(key, None)
            return NotInService(name, endpoint.status if endpoint else None)
        cached = _routes[key] = _Cached(routes, time.monotonic() + routing.ROUTE_CACHE_S)
    return cached.routes


async def _send(
    route: routing.Route, body: bytes, *, shared_client: bool, **arguments
) -> protocol.Reply:
    if shared_client:
        client = serving_client(settings().redis_url)
        return await client.invoke(route.variant_id, body, **arguments)
    client = ServingClient(settings().redis_url)
    try:
        return await client.invoke(route.variant_id, body, **arguments)
    finally:
        await client.close()
