"""The serving state is written by one module, and only once the transaction commits."""

from __future__ import annotations

import pytest
from django.db import transaction

from console.core.names import account_id_for, arn
from console.endpoints.models import Endpoint, EndpointVariant
from console.endpoints.services import serving
from console.endpoints.services.capacity import endpoint_autoscaling_set
from console.endpoints.services.endpoints import endpoint_delete

pytestmark = pytest.mark.django_db(transaction=True)


class FakeState:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def deploy(self, variant_id, **spec):
        self.calls.append(("deploy", variant_id, spec["instances"]))

    def update(self, variant_id, **changes):
        self.calls.append(("update", variant_id, changes))

    def retire(self, variant_id):
        self.calls.append(("retire", variant_id))

    def spec(self, variant_id):
        return {"instances": 1}  # what the serving state holds: one instance running

    def record_activity(self, variant_id, activity):
        self.calls.append(("activity", variant_id, activity["Description"]))


@pytest.fixture
def state(monkeypatch) -> FakeState:
    fake = FakeState()
    monkeypatch.setattr(serving, "serving_state", lambda: fake)
    monkeypatch.setattr("console.endpoints.selectors.serving_state", lambda: fake)
    return fake


def serving_endpoint(user, name="ep") -> Endpoint:
    endpoint = Endpoint.objects.create(
        owner=user,
        name=name,
        arn=arn("endpoint", name, account_id=account_id_for(user.pk)),
        status="InService",
        config_name="config",
    )
    EndpointVariant.objects.create(
        endpoint=endpoint, name="main", deployment_id=f"{name}-main", state=EndpointVariant.ACTIVE
    )
    return endpoint


def test_writes_wait_for_the_commit(state):
    with transaction.atomic():
        serving.serving_variants_retire(deployment_ids=["a"])
        serving.serving_variant_update(deployment_id="b", changes={"instances": 2})
        assert state.calls == []
    assert state.calls == [("retire", "a"), ("update", "b", {"instances": 2})]


def test_a_rolled_back_change_never_reaches_the_instances(state):
    with pytest.raises(RuntimeError), transaction.atomic():
        serving.serving_variants_retire(deployment_ids=["a"])
        raise RuntimeError("the change fails after asking")
    assert state.calls == []


def test_outside_a_transaction_the_write_is_made_at_once(state):
    serving.serving_variants_retire(deployment_ids=["a"])
    assert state.calls == [("retire", "a")]


def test_deleting_an_endpoint_retires_its_deployments(state, user):
    serving_endpoint(user)

    endpoint_delete(user=user, name="ep")

    assert state.calls == [("retire", "ep-main")]


def test_autoscaling_reaches_the_serving_variant(state, user):
    serving_endpoint(user)

    endpoint_autoscaling_set(
        user=user,
        name="ep",
        variant_name="main",
        min_instances=2,
        max_instances=3,
        target_invocations_per_instance=100,
    )

    [(kind, deployment_id, changes), *_] = state.calls
    assert (kind, deployment_id, changes["instances"]) == ("update", "ep-main", 2)
    assert changes["autoscaling"]["max_instances"] == 3
    # The count moved into the new bounds: a scaling activity says so.
    assert ("activity", "ep-main", "Setting desired instance count to 2.") in state.calls
