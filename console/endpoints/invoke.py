"""Invoking an endpoint from the console's test form and the REST API (not the runtime route,
which keeps its own faster path in :mod:`console.sagemaker.runtime`)."""

from __future__ import annotations

from dataclasses import dataclass

from asgiref.sync import sync_to_async

from console.endpoints.selectors import endpoint_routes
from infra.config import settings
from infra.serving import protocol, routing
from infra.serving.client import ServingClient


@dataclass(frozen=True)
class InvokeResult:
    body: bytes = b""
    content_type: str = ""
    variant_name: str = ""
    error: str = ""
    status: int = 200
    elapsed_ms: float = 0.0


async def invoke(
    *,
    user,
    endpoint_name: str,
    body: bytes,
    content_type: str,
    accept: str,
    target_variant: str | None = None,
    timeout: float = 60.0,
) -> InvokeResult:
    import time

    endpoint, routes = await sync_to_async(endpoint_routes)(user=user, name=endpoint_name)
    if not routes:
        status = endpoint.status if endpoint else "not found"
        return InvokeResult(error=f"Endpoint {endpoint_name} is {status}.", status=400)
    try:
        route = routing.choose(routes, target_variant)
    except routing.NoSuchVariant:
        return InvokeResult(error=f"No variant {target_variant!r} serves traffic.", status=400)
    client = ServingClient(settings().redis_url)
    started = time.perf_counter()
    try:
        reply = await client.invoke(
            route.variant_id, body, content_type=content_type, accept=accept, timeout=timeout
        )
    finally:
        await client.close()
    elapsed = (time.perf_counter() - started) * 1000
    if not reply.ok:
        status = 504 if reply.error == protocol.TIMED_OUT else reply.status
        return InvokeResult(
            error=reply.message, status=status, variant_name=route.variant_name, elapsed_ms=elapsed
        )
    return InvokeResult(
        body=reply.body,
        content_type=reply.content_type,
        variant_name=route.variant_name,
        elapsed_ms=elapsed,
    )
