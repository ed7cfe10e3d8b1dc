"""Endpoints in the console: created from a config, updated to another config (blue/green),
weights and instance counts changed, deleted after a confirmation. The deploy flow's work is
what its services report (:mod:`console.endpoints.services.deployment`); no instance runs."""

from __future__ import annotations

import pytest

from console.endpoints.models import Endpoint, EndpointVariant
from console.endpoints.services.configs import endpoint_config_create
from console.endpoints.services.deployment import endpoint_activate, endpoint_in_service

pytestmark = pytest.mark.django_db
DEPLOY = "endpoint-deploy/sagebrush"


def config(user, name: str, model: str = "churn", *, instances: int = 1) -> None:
    endpoint_config_create(
        user=user,
        spec={
            "EndpointConfigName": name,
            "ProductionVariants": [
                {"VariantName": "main", "ModelName": model, "InitialInstanceCount": instances}
            ],
        },
    )


def deployed(endpoint: Endpoint) -> Endpoint:
    """What the deploy flow reports once the new variants serve."""
    endpoint_activate(endpoint_id=endpoint.pk)
    endpoint_in_service(endpoint_id=endpoint.pk)
    return Endpoint.objects.get(pk=endpoint.pk)


def test_create_update_and_reweigh_an_endpoint_from_the_console(
    console, model, flow_runs, django_capture_on_commit_callbacks
):
    config(model.owner, "first")
    config(model.owner, "second", instances=2)
    form = console.get("/endpoints/new?config=first").content.decode()
    assert '<option value="first" selected>first</option>' in form

    with django_capture_on_commit_callbacks(execute=True):
        created = console.post("/endpoints/new?config=first", {"name": "live", "config": "first"})
    assert created["Location"] == "/endpoints/live/"
    endpoint = Endpoint.objects.get(name="live")
    assert endpoint.status == "Creating" and flow_runs == [(DEPLOY, {"endpoint_id": endpoint.pk})]
    endpoint = deployed(endpoint)

    update = console.get("/endpoints/live/update").content.decode()
    assert '<option value="second">' in update and '<option value="first">' not in update
    with django_capture_on_commit_callbacks(execute=True):
        sent = console.post("/endpoints/live/update", {"config": "second"})
    assert sent["Location"] == "/endpoints/live/"
    endpoint.refresh_from_db()
    assert (endpoint.status, endpoint.pending_config_name) == ("Updating", "second")
    assert len(flow_runs) == 2
    # Blue/green: the serving variant stays beside the new one until the flow moves traffic.
    assert sorted(endpoint.variants.values_list("state", flat=True)) == ["Active", "Creating"]
    busy = console.post("/endpoints/live/weights", {"weight_1": "1", "count_1": "1"})
    assert "it must be InService" in busy.content.decode()  # in the summary, not a crash
    endpoint = deployed(endpoint)
    assert endpoint.config_name == "second"

    weights = console.get("/endpoints/live/weights").content.decode()
    assert 'name="weight_1"' in weights and 'name="count_1" value="2"' in weights
    with django_capture_on_commit_callbacks(execute=True):
        sent = console.post("/endpoints/live/weights", {"weight_1": "3", "count_1": "3"})
    assert sent["Location"] == "/endpoints/live/"
    variant = Endpoint.objects.get(name="live").variants.get(state=EndpointVariant.ACTIVE)
    assert (variant.desired_weight, variant.desired_instance_count) == (3.0, 3)
    assert len(flow_runs) == 3

    too_many = console.post("/endpoints/live/weights", {"weight_1": "1", "count_1": "11"})
    assert "Ensure this value is less than or equal to 10." in too_many.content.decode()


def test_refusals_of_the_new_endpoint_form_name_their_field(console, model, flow_runs):
    config(model.owner, "first")
    refused = console.post("/endpoints/new", {"name": "a.b", "config": "first"}).content.decode()
    assert "Use only letters, digits and hyphens" in refused and 'href="#id_name"' in refused
    console.post("/endpoints/new", {"name": "taken", "config": "first"})
    again = console.post("/endpoints/new", {"name": "taken", "config": "first"}).content.decode()
    assert "An endpoint named taken already exists: choose another name." in again


def test_delete_asks_first_and_is_a_post(console, model, monkeypatch):
    config(model.owner, "first")
    console.post("/endpoints/new", {"name": "gone", "config": "first"})
    # The endpoint's page reads the serving state; what it shows is not this test's concern.
    monkeypatch.setattr("console.endpoints.views.endpoint_variant_views", lambda endpoint: [])
    monkeypatch.setattr("console.endpoints.views.endpoint_describe", lambda endpoint: {})
    monkeypatch.setattr("console.endpoints.views.endpoint_metrics", lambda endpoint: {})
    monkeypatch.setattr(
        "console.endpoints.views.endpoint_autoscaling_overview", lambda endpoint: []
    )
    page = console.get("/endpoints/gone/").content.decode()
    form = page.split('action="/endpoints/gone/delete"')[1].split(">")[0]
    assert 'data-confirm="Delete endpoint gone?' in form
    assert 'href="/endpoint-configs/first/"' in page
    assert 'href="/endpoints/gone/update"' in page and 'href="/endpoints/gone/weights"' in page

    assert console.get("/endpoints/gone/delete").status_code == 405
    assert console.post("/endpoints/gone/delete")["Location"] == "/endpoints/"
    assert not Endpoint.objects.filter(name="gone").exists()
