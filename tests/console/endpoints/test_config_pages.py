"""Endpoint configs in the console: the create form (variant rows, added without sending the
form), its refusals in plain words at their fields, the config's page, and delete."""

from __future__ import annotations

import pytest

from console.endpoints.models import EndpointConfig
from console.endpoints.selectors import endpoint_config_describe
from console.endpoints.services.configs import endpoint_config_create

pytestmark = pytest.mark.django_db


def variant(row: int, name: str, model: str, *, weight: str = "1", count: str = "1") -> dict:
    return {
        f"variant_{row}_name": name,
        f"variant_{row}_model": model,
        f"variant_{row}_instance_type": "ml.m5.large",
        f"variant_{row}_instance_count": count,
        f"variant_{row}_weight": weight,
    }


def test_a_config_with_two_weighted_variants_is_created_from_the_form(console, model):
    form = console.get("/endpoint-configs/new").content.decode()
    assert '<option value="churn">churn</option>' in form
    assert 'id="variant-2"' not in form

    typed = {"name": "two-ways", "rows": "1", **variant(1, "a", "churn", weight="3")}
    added = console.post("/endpoint-configs/new", {**typed, "add_variant": "1"}).content.decode()
    assert 'id="variant-2"' in added and 'value="two-ways"' in added  # kept, not judged
    assert "things to fix" not in added and "One thing to fix" not in added
    assert not EndpointConfig.objects.exists()

    sent = console.post(
        "/endpoint-configs/new", {**typed, "rows": "2", **variant(2, "b", "churn", count="2")}
    )
    assert sent.status_code == 302 and sent["Location"] == "/endpoint-configs/two-ways/"
    described = endpoint_config_describe(EndpointConfig.objects.get(name="two-ways"))
    assert [
        (v["VariantName"], v["InitialVariantWeight"], v["InitialInstanceCount"])
        for v in described["ProductionVariants"]
    ] == [("a", 3.0, 1), ("b", 1.0, 2)]

    page = console.get("/endpoint-configs/two-ways/").content.decode()
    assert 'href="/models/churn/"' in page and "ml.m5.large" in page
    assert 'href="/endpoints/new?config=two-ways"' in page
    assert (
        'href="/endpoint-configs/two-ways/"' in console.get("/endpoint-configs/").content.decode()
    )


def test_refusals_are_in_plain_words_at_their_fields_summarised_on_top(console, model):
    bad_name = console.post(
        "/endpoint-configs/new", {"name": "not_valid", "rows": "1", **variant(1, "a", "churn")}
    ).content.decode()
    assert "Member must" not in bad_name and "regular expression" not in bad_name
    assert "Use only letters, digits and hyphens" in bad_name
    assert 'id="error-summary"' in bad_name and 'href="#id_name"' in bad_name
    assert 'name="name"' in bad_name and "autofocus" in bad_name.split('name="name"')[1][:200]

    # Row 2 is left out (no model): the error on the third row sent is shown on row 3.
    same_names = console.post(
        "/endpoint-configs/new",
        {
            "name": "dup",
            "rows": "3",
            **variant(1, "a", "churn"),
            **variant(2, "b", ""),
            **variant(3, "a", "churn"),
        },
    ).content.decode()
    assert "Each variant needs a name of its own." in same_names
    assert '<a href="#id_variant_3_name">Variant 3: Name</a>' in same_names

    no_weight = console.post(
        "/endpoint-configs/new",
        {"name": "zero", "rows": "1", **variant(1, "a", "churn", weight="0")},
    ).content.decode()
    assert "At least one weight must be above 0" in no_weight

    endpoint_config_create(
        user=model.owner,
        spec={
            "EndpointConfigName": "taken",
            "ProductionVariants": [
                {"VariantName": "a", "ModelName": "churn", "InitialInstanceCount": 1}
            ],
        },
    )
    taken = console.post(
        "/endpoint-configs/new", {"name": "taken", "rows": "1", **variant(1, "a", "churn")}
    ).content.decode()
    assert "An endpoint config named taken already exists: choose another name." in taken
    assert EndpointConfig.objects.count() == 1


def test_delete_asks_first_and_is_a_post(console, model):
    endpoint_config_create(
        user=model.owner,
        spec={
            "EndpointConfigName": "old",
            "ProductionVariants": [
                {"VariantName": "a", "ModelName": "churn", "InitialInstanceCount": 1}
            ],
        },
    )
    page = console.get("/endpoint-configs/old/").content.decode()
    form = page.split('action="/endpoint-configs/old/delete"')[1].split(">")[0]
    assert 'data-confirm="Delete endpoint config old?' in form

    assert console.get("/endpoint-configs/old/delete").status_code == 405
    assert EndpointConfig.objects.filter(name="old").exists()
    deleted = console.post("/endpoint-configs/old/delete")
    assert deleted["Location"] == "/endpoint-configs/"
    assert not EndpointConfig.objects.filter(name="old").exists()
