"""The endpoint deploy flow: blue/green creation, updates and capacity changes.

``deploy_endpoint(endpoint_id)`` does the work and is what tests call; the ``endpoint-deploy``
flow wraps it for Prefect. New variants' instances start and load their model while the serving
variants keep answering; once every new variant has its instances in service, traffic moves
(``endpoint_activate``). The endpoint is InService again once no web process can still route by
the old variants, whose queues then drain before their instances stop. Should a new variant fail
to load, or not come up within the time SageMaker allows, a new endpoint fails and an updated one
rolls back, serving as before.
"""

from __future__ import annotations

import logging
import time

from prefect import flow

from flows.django_setup import setup
from infra.serving.routing import ROUTE_CACHE_S
from infra.serving.state import ServingState, serving_state

log = logging.getLogger(__name__)
START_TIMEOUT_S = 240.0  # SageMaker fails instances that do not pass /ping within 4 minutes
DRAIN_TIMEOUT_S = 70.0  # the model timeout and some: what an old instance may still hold


@flow(name="endpoint-deploy", log_prints=True)
def endpoint_deploy(endpoint_id: int) -> str:
    """Bring one endpoint's pending deployment to its end; returns the endpoint's status."""
    setup()
    return deploy_endpoint(endpoint_id)


def deploy_endpoint(
    endpoint_id: int,
    *,
    state: ServingState | None = None,
    start_timeout_s: float = START_TIMEOUT_S,
    poll_s: float = 0.2,
) -> str:
    setup()
    from console.endpoints import services
    from console.endpoints.models import Endpoint, EndpointVariant

    state = state or serving_state()
    endpoint = Endpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        return "Deleted"
    wanted = {}
    for variant in endpoint.variants.exclude(state=EndpointVariant.RETIRING):
        instances = variant.desired_instance_count
        wanted[variant.deployment_id] = instances
        if variant.state == EndpointVariant.CREATING:
            state.deploy(
                variant.deployment_id,
                containers=variant.containers,
                instances=instances,
                autoscaling=variant.autoscaling,
                labels={"endpoint": endpoint.name, "variant": variant.name},
            )
        elif not variant.autoscaling:
            state.update(variant.deployment_id, instances=instances)

    failure = _wait_in_service(endpoint_id, wanted, state, start_timeout_s, poll_s)
    if failure == "deleted":
        return "Deleted"
    if failure:
        for deployment_id in services.endpoint_deployment_failed(
            endpoint_id=endpoint_id, reason=failure
        ):
            state.retire(deployment_id)
        return Endpoint.objects.get(pk=endpoint_id).status

    if services.endpoint_activate(endpoint_id=endpoint_id):
        time.sleep(ROUTE_CACHE_S * 2)  # until no web process routes by the replaced variants
    services.endpoint_in_service(endpoint_id=endpoint_id)
    retiring = list(
        EndpointVariant.objects.filter(endpoint_id=endpoint_id, state="Retiring").values_list(
            "deployment_id", flat=True
        )
    )
    _drain(retiring, state, poll_s)
    for deployment_id in services.endpoint_variants_retired(endpoint_id=endpoint_id):
        state.retire(deployment_id)
    endpoint = Endpoint.objects.filter(pk=endpoint_id).first()
    return endpoint.status if endpoint else "Deleted"


def _wait_in_service(
    endpoint_id: int,
    wanted: dict[str, int],
    state: ServingState,
    timeout_s: float,
    poll_s: float,
) -> str:
    """ "" once every deployment has its instances in service; else why not ("deleted" when
    the endpoint was deleted meanwhile)."""
    from console.endpoints.models import Endpoint

    deadline = time.monotonic() + timeout_s
    while True:
        if not Endpoint.objects.filter(pk=endpoint_id).exists():
            return "deleted"
        missing = {}
        for deployment_id, count in wanted.items():
            instances = state.instances(deployment_id)
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


def _drain(deployments: list[str], state: ServingState, poll_s: float) -> None:
    """Wait until the queues of ``deployments``, which no web process routes to, are empty."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while any(state.backlog(d) for d in deployments) and time.monotonic() < deadline:
        time.sleep(poll_s)
