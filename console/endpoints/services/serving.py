"""The one writer of the serving state (:mod:`infra.serving.state`) on the console's side.

The database says what should serve; Redis tells the supervisor to make it so. Every write is
made once the surrounding transaction commits (at once outside one), so a rolled-back change
never reaches the instances and a committed one always does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from console.endpoints.models import EndpointVariant
from infra.serving.state import serving_state


def serving_variants_deploy(*, variants: Iterable[EndpointVariant]) -> None:
    """Start instances for ``variants`` (each loads its model), as their rows say now."""
    specs = [
        (
            variant.deployment_id,
            {
                "containers": variant.containers,
                "instances": variant.desired_instance_count,
                "autoscaling": variant.autoscaling,
                "labels": {"endpoint": variant.endpoint.name, "variant": variant.name},
            },
        )
        for variant in variants
    ]

    def deploy() -> None:
        state = serving_state()
        for deployment_id, spec in specs:
            state.deploy(deployment_id, **spec)

    transaction.on_commit(deploy)


def serving_variant_update(*, deployment_id: str, changes: dict[str, Any]) -> None:
    """Change a deployed variant's ``instances`` or ``autoscaling`` (none when not deployed)."""
    changes = dict(changes)
    transaction.on_commit(lambda: serving_state().update(deployment_id, **changes))


def serving_variant_activity(*, deployment_id: str, activity: dict[str, Any]) -> None:
    """Keep a scaling activity of a deployed variant (DescribeScalingActivities shows it)."""
    activity = dict(activity)
    transaction.on_commit(lambda: serving_state().record_activity(deployment_id, activity))


def serving_variants_retire(*, deployment_ids: Iterable[str]) -> None:
    """Stop serving these deployments: the supervisor stops their instances."""
    deployment_ids = list(deployment_ids)

    def retire() -> None:
        state = serving_state()
        for deployment_id in deployment_ids:
            state.retire(deployment_id)

    if deployment_ids:
        transaction.on_commit(retire)
