"""The create-training-job form: each algorithm's hyperparameters as fields from its schema,
refusals in plain words summarised at the top, and a clone of an existing job."""

from __future__ import annotations

import re

import pytest

from console.training.models import TrainingJob

pytestmark = pytest.mark.django_db


def form(bucket: str, **changes) -> dict:
    values = {
        "name": "form-lgbm",
        "algorithm": "lightgbm",
        "train_uri": f"s3://{bucket}/train/",
        "validation_uri": f"s3://{bucket}/validation/",
        "content_type": "text/csv",
        "output_path": f"s3://{bucket}/out",
        "instance_count": 1,
        "max_runtime": 600,
    }
    values.update(changes)
    return values


def field_tag(page: str, name: str) -> str:
    match = re.search(rf'<(?:input|select)[^>]*name="{re.escape(name)}"[^>]*>', page)
    assert match, f"no field {name}"
    return match.group(0)


def test_picking_lightgbm_shows_its_hyperparameters_with_defaults_ranges_and_help(client, user):
    client.force_login(user)
    page = client.get("/training-jobs/new?algorithm=lightgbm").content.decode()
    assert 'placeholder="100"' in field_tag(page, "hp-num_boost_round")
    assert "integer, 1 to 100000; default 100" in page
    assert "number, over 0 to 1; default 0.1" in page  # learning_rate
    assert '<option value="binary">' in page  # objective's choices
    assert "hp-num_round" not in page  # XGBoost's name for the rounds

    # What the form swaps in when the user picks another algorithm.
    fragment = client.get("/training-jobs/new/hyperparameters?algorithm=xgboost").content.decode()
    assert "hp-num_round" in fragment and "hp-num_boost_round" not in fragment
    assert "integer, 1 or more; required" in fragment


def test_filled_in_hyperparameters_reach_the_job(client, user, data_bucket, no_flow_runs):
    client.force_login(user)
    values = form(data_bucket, **{"hp-num_boost_round": "7", "hp-objective": "binary"})
    created = client.post("/training-jobs/new", values)
    assert created.status_code == 302 and created.url == "/training-jobs/form-lgbm/"
    job = TrainingJob.objects.get(name="form-lgbm")
    assert job.spec["HyperParameters"] == {"num_boost_round": "7", "objective": "binary"}


def test_a_refused_name_is_said_plainly_summarised_and_focused(client, user, data_bucket):
    client.force_login(user)
    page = client.post("/training-jobs/new", form(data_bucket, name="my job!")).content.decode()
    summary = re.search(r'<div class="error-summary".*?</div>', page, re.S).group(0)
    assert "Use only letters, digits and hyphens" in summary
    assert 'href="#id_name"' in summary
    assert "regular expression" not in page and "Member must" not in page
    assert "autofocus" in field_tag(page, "name")
    assert not TrainingJob.objects.exists()


def test_a_hyperparameter_error_lands_at_its_field(client, user, data_bucket):
    client.force_login(user)
    values = form(data_bucket, **{"hp-num_boost_round": "twenty"})
    page = client.post("/training-jobs/new", values).content.decode()
    summary = re.search(r'<div class="error-summary".*?</div>', page, re.S).group(0)
    assert 'href="#id_hp-num_boost_round"' in summary
    assert "must be an integer (got &#x27;twenty&#x27;)" in summary
    tag = field_tag(page, "hp-num_boost_round")
    assert "autofocus" in tag and 'aria-invalid="true"' in tag


def test_required_fields_are_all_listed_at_the_top(client, user):
    client.force_login(user)
    values = {"name": "x", "algorithm": "lightgbm", "content_type": "text/csv"}
    page = client.post("/training-jobs/new", values).content.decode()
    assert "things to fix" in page
    for field in ("train_uri", "output_path", "instance_count", "max_runtime"):
        assert f'href="#id_{field}"' in page
    assert "autofocus" in field_tag(page, "train_uri")  # the first in the form's order


def test_clone_fills_the_form_from_a_job(client, user, data_bucket, no_flow_runs):
    client.force_login(user)
    client.post(
        "/training-jobs/new", form(data_bucket, **{"hp-num_leaves": "9"}, hyperparameters="seed=3")
    )
    page = client.get("/training-jobs/new?clone=form-lgbm").content.decode()
    assert 'value="form-lgbm-copy"' in field_tag(page, "name")
    assert 'value="9"' in field_tag(page, "hp-num_leaves")
    assert f'value="s3://{data_bucket}/validation/"' in field_tag(page, "validation_uri")
    assert 'value="seed"' not in page and ">seed=3</textarea>" not in page
    assert 'value="3"' in field_tag(page, "hp-seed")  # a declared name gets its field
    assert client.get("/training-jobs/new?clone=nope").status_code == 404


def test_a_completed_job_links_to_deploy_and_clone(client, user, data_bucket, no_flow_runs):
    client.force_login(user)
    client.post("/training-jobs/new", form(data_bucket, name="done-job"))
    page = client.get("/training-jobs/done-job/").content.decode()
    assert 'href="/training-jobs/new?clone=done-job"' in page
    assert "/endpoints/new?training_job=done-job" not in page  # not before it completes
    TrainingJob.objects.filter(name="done-job").update(status="Completed")
    page = client.get("/training-jobs/done-job/").content.decode()
    assert 'href="/endpoints/new?training_job=done-job"' in page
