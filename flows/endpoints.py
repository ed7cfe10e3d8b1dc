"""The endpoint deploy flow: blue/green creation, updates and capacity changes.

``deploy_endpoint(endpoint_id)`` does the work and is what tests call; the ``endpoint-deploy``
flow wraps it for Prefect. New variants' instances start and load their model while the serving
variants keep answering; once every new variant has its instances in service, traffic moves
(``endpoint_activate``). The endpoint is InService again once no web process can still route by
the old variants, whose queues then drain before their instances stop. Should a new variant fail
to load, or not come up within the time SageMaker allows, a new endpoint fails and an updated one
rolls back, serving as before. Every change goes through the endpoint services (which alone
write the serving state); every read through the endpoint selectors.
"""

from __future__ import annotations

import logging
import time

from prefect import flow

from console.endpoints.models import EndpointVariant
from console.endpoints.selectors import (
    endpoint_by_id,
    endpoint_deployment_ids,
    endpoint_variant_backlog,
    endpoint_variant_instances,
)
from console.endpoints.services.deployment import (
    endpoint_activate,
    endpoint_deployment_begin,
    endpoint_deployment_failed,
    endpoint_in_service,
    endpoint_variants_retired,
)
from infra.serving.routing import ROUTE_CACHE_S

log = logging.getLogger(__name__)
START_TIMEOUT_S = 240.0  # SageMaker fails instances that do not pass /ping within 4 minutes
DRAIN_TIMEOUT_S = 70.0  # the model timeout and some: what an old instance may still hold


@flow(name="endpoint-deploy", log_prints=True)
def endpoint_deploy(endpoint_id: int) -> str:
    """Bring one endpoint's pending deployment to its end; returns the endpoint's status."""
    return deploy_endpoint(endpoint_id)


def deploy_endpoint(
    endpoint_id: int, *, start_timeout_s: float = START_TIMEOUT_S, poll_s: float = 0.2
) -> str:
    wanted = endpoint_deployment_begin(endpoint_id=endpoint_id)
    if wanted is None:
        return "Deleted"

    failure = _wait_in_service(endpoint_id, wanted, start_timeout_s, poll_s)
    if failure == "deleted":
        return "Deleted"
    if failure:
        endpoint_deployment_failed(endpoint_id=endpoint_id, reason=failure)
        return _status(endpoint_id)

    if endpoint_activate(endpoint_id=endpoint_id):
        time.sleep(ROUTE_CACHE_S * 2)  # until no web process routes by the replaced variants
    endpoint_in_service(endpoint_id=endpoint_id)
    retiring = endpoint_deployment_ids(endpoint_id=endpoint_id, state=EndpointVariant.RETIRING)
    _drain(retiring, poll_s)
    endpoint_variants_retired(endpoint_id=endpoint_id)
    return _status(endpoint_id)


def _status(endpoint_id: int) -> str:
    endpoint = endpoint_by_id(endpoint_id=endpoint_id)
    return endpoint.status if endpoint else "Deleted"


def _wait_in_service(
    endpoint_id: int, wanted: dict[str, int], timeout_s: float, poll_s: float
) -> str:
    """ "" once every deployment has its instances in service; else why not ("deleted" when
    the endpoint was deleted meanwhile)."""
    deadline = time.monotonic() + timeout_s
    while True:
        if endpoint_by_id(endpoint_id=endpoint_id) is None:
            return "deleted"
        missing = {}
        for deployment_id, count in wanted.items():
            instances = endpoint_variant_instances(deployment_id=deployment_id)
            failed = [i for i in instances if i.state == "Failed"]
            if failed:
                return f"An instance could not load the model: {failed[0].error}"
            ready = sum(1 for i in instances if i.state == "InService")
            if ready < count:
                missing[deployment_id] = (ready, count)
        if not missing:
            return ""
        if time.monotonic() > deadline:
            detail = ", ".join(f"{d}: {r} of {c}" for d, (r, c) in missing.items())
            return (
                f"The instances did not come up within {timeout_s:g} seconds "
                f"(in service: {detail})."
            )
        time.sleep(poll_s)


def _drain(deployments: list[str], poll_s: float) -> None:
    """Wait until the queues of ``deployments``, which no web process routes to, are empty."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while (
        any(endpoint_variant_backlog(deployment_id=d) for d in deployments)
        and time.monotonic() < deadline
    ):
        time.sleep(poll_s)
