"""Deployments of an endpoint's variants: starting the ``endpoint-deploy`` flow, and what the
flow reports as it brings new variants up, moves traffic to them and retires the ones they
replace. Serving-state writes go through :mod:`console.endpoints.services.serving`.
"""

from __future__ import annotations

from django.db import transaction

from console.core.errors import InvalidState
from console.core.services import flow_run_start_on_commit
from console.endpoints.models import Endpoint, EndpointConfig, EndpointVariant
from console.endpoints.selectors import (
    endpoint_deployment_ids,
    endpoint_variant_instances,
    endpoint_variant_spec,
)
from console.endpoints.services.serving import (
    serving_variant_update,
    serving_variants_deploy,
    serving_variants_retire,
)

DEPLOYMENT = "endpoint-deploy/sagebrush"


def endpoint_require_in_service(endpoint: Endpoint, action: str) -> None:
    """A new deployment starts only from a serving endpoint (SageMaker's rule for updates)."""
    if endpoint.status != "InService":
        raise InvalidState(
            f'Cannot {action} endpoint "{endpoint.arn}" while it is {endpoint.status}: '
            "it must be InService."
        )


def endpoint_deployment_start(*, endpoint: Endpoint) -> None:
    """Once committed, start the deploy flow run; if it cannot start, say so on the endpoint."""
    flow_run_start_on_commit(
        endpoint,
        deployment=DEPLOYMENT,
        parameters={"endpoint_id": endpoint.pk},
        on_failure=lambda reason: endpoint_deployment_failed(
            endpoint_id=endpoint.pk, reason=reason
        ),
    )


def endpoint_deployment_begin(*, endpoint_id: int) -> dict[str, int] | None:
    """The flow starts: new variants' instances start and load their model, serving variants
    without autoscaling take their desired instance count. Returns how many instances each
    deployment must have in service; None when the endpoint is gone."""
    endpoint = Endpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        return None
    wanted = {}
    creating = []
    for variant in endpoint.variants.exclude(state=EndpointVariant.RETIRING):
        wanted[variant.deployment_id] = variant.desired_instance_count
        if variant.state == EndpointVariant.CREATING:
            creating.append(variant)
        elif not variant.autoscaling:
            serving_variant_update(
                deployment_id=variant.deployment_id,
                changes={"instances": variant.desired_instance_count},
            )
    serving_variants_deploy(variants=creating)
    return wanted


def endpoint_activate(*, endpoint_id: int) -> bool:
    """The new variants are in service: they take the traffic, the ones they replace retire.

    The status stays as it is (see :func:`endpoint_in_service`). Returns whether the endpoint was
    already answering, in which case web processes may route by their old routes a moment more.
    """
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().get(pk=endpoint_id)
        creating = list(endpoint.variants.filter(state=EndpointVariant.CREATING))
        if creating:
            endpoint.variants.filter(state=EndpointVariant.ACTIVE).update(
                state=EndpointVariant.RETIRING, current_weight=0
            )
        for variant in endpoint.variants.exclude(state=EndpointVariant.RETIRING):
            variant.state = EndpointVariant.ACTIVE
            variant.current_weight = variant.desired_weight
            variant.save(update_fields=["state", "current_weight"])
        if endpoint.pending_config_name:
            endpoint.config = EndpointConfig.objects.filter(
                owner=endpoint.owner, name=endpoint.pending_config_name
            ).first()
            endpoint.config_name = endpoint.pending_config_name
            endpoint.pending_config_name = ""
        endpoint.save()
        return endpoint.status != "Creating"


def endpoint_in_service(*, endpoint_id: int) -> None:
    """Every web process now routes by the active variants: say so (the waiters return)."""
    Endpoint.objects.filter(pk=endpoint_id).update(status="InService")


def endpoint_deployment_failed(*, endpoint_id: int, reason: str) -> None:
    """The new variants could not come up: a new endpoint fails; an updated one keeps serving
    its previous variants, saying why the update was rolled back. The new variants' instances
    stop."""
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().filter(pk=endpoint_id).first()
        if endpoint is None:
            return
        creating = endpoint.variants.filter(state=EndpointVariant.CREATING)
        serving_variants_retire(
            deployment_ids=list(creating.values_list("deployment_id", flat=True))
        )
        if endpoint.status == "Creating":
            endpoint.status = "Failed"
            endpoint.failure_reason = reason[:1024]
        else:
            creating.delete()
            # Capacities asked for and not reached go back to what is running.
            for variant in endpoint.variants.filter(state=EndpointVariant.ACTIVE):
                variant.desired_weight = variant.current_weight
                variant.save(update_fields=["desired_weight"])
                spec = endpoint_variant_spec(deployment_id=variant.deployment_id)
                if spec is not None and not spec.get("autoscaling"):
                    instances = endpoint_variant_instances(deployment_id=variant.deployment_id)
                    in_service = sum(1 for i in instances if i.state == "InService")
                    variant.desired_instance_count = max(1, in_service)
                    variant.save(update_fields=["desired_instance_count"])
                    serving_variant_update(
                        deployment_id=variant.deployment_id,
                        changes={"instances": variant.desired_instance_count},
                    )
            endpoint.status = "InService"
            endpoint.failure_reason = f"The update was rolled back: {reason}"[:1024]
            endpoint.pending_config_name = ""
        endpoint.save()


def endpoint_variants_retired(*, endpoint_id: int) -> None:
    """The replaced variants' queues have drained: forget them and stop their instances."""
    with transaction.atomic():
        deployments = endpoint_deployment_ids(
            endpoint_id=endpoint_id, state=EndpointVariant.RETIRING
        )
        EndpointVariant.objects.filter(deployment_id__in=deployments).delete()
        serving_variants_retire(deployment_ids=deployments)
