"""Training jobs side by side: a job's train and validation curves overlaid, and the compare
page of 2 to N jobs (differing hyperparameters, final metrics, curves)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from console.training.models import TrainingJob
from console.training.services import training_job_finish, training_job_record

pytestmark = pytest.mark.django_db


def trained(client, bucket: str, name: str, rounds: str, auc: list[float]) -> TrainingJob:
    """A job made with the form, its flow's reports played by hand: auc per round, then done."""
    created = client.post(
        "/training-jobs/new",
        {
            "name": name,
            "algorithm": "lightgbm",
            "hp-num_boost_round": rounds,
            "hp-objective": "binary",
            "train_uri": f"s3://{bucket}/train/",
            "validation_uri": f"s3://{bucket}/validation/",
            "content_type": "text/csv",
            "output_path": f"s3://{bucket}/out",
            "instance_count": 1,
            "max_runtime": 600,
        },
    )
    assert created.status_code == 302
    job = TrainingJob.objects.get(name=name)
    now = datetime.now(UTC)
    metrics = [("train:auc", step, value + 0.01, now) for step, value in enumerate(auc, 1)]
    metrics += [("validation:auc", step, value, now) for step, value in enumerate(auc, 1)]
    training_job_record(job_id=job.pk, metrics=metrics)
    training_job_finish(job_id=job.pk, final_metrics={"validation:auc": auc[-1]})
    return job


def test_compare_shows_both_jobs_differing_hyperparameters_metrics_and_curves(
    client, user, data_bucket, no_flow_runs
):
    client.force_login(user)
    trained(client, data_bucket, "short-run", "3", [0.7, 0.8, 0.82])
    trained(client, data_bucket, "long-run", "5", [0.7, 0.8, 0.85, 0.88, 0.9])

    # The job page overlays a metric's channels: train solid, validation dashed, one chart.
    page = client.get("/training-jobs/long-run/").content.decode()
    assert page.count("<figcaption>auc</figcaption>") == 1
    assert page.count("<polyline") == 2 and page.count("stroke-dasharray") == 1

    listing = client.get("/training-jobs/").content.decode()
    assert 'action="/training-jobs/compare"' in listing
    assert 'name="name" value="short-run"' in listing

    page = client.get("/training-jobs/compare?name=short-run&name=long-run").content.decode()
    diff = re.search(r'<table id="hyperparameter-diff">.*?</table>', page, re.S).group(0)
    rounds = re.search(r'<tr class="differs" data-name="num_boost_round">.*?</tr>', diff, re.S)
    assert rounds and "<code>3</code>" in rounds.group(0) and "<code>5</code>" in rounds.group(0)
    assert 'class="same" data-name="objective"' in diff
    finals = re.search(r'<table id="final-metrics">.*?</table>', page, re.S).group(0)
    assert "0.820000" in finals and "0.900000" in finals
    # One auc chart: each job's train and validation curve.
    assert page.count("<figcaption>auc</figcaption>") == 1
    assert page.count("<polyline") == 4 and page.count("stroke-dasharray") == 2


def test_compare_needs_two_of_the_users_jobs(client, user, data_bucket, no_flow_runs):
    client.force_login(user)
    trained(client, data_bucket, "only-one", "3", [0.7, 0.8, 0.82])
    page = client.get("/training-jobs/compare?name=only-one").content.decode()
    assert "Choose 2 to 10 training jobs to compare (1 chosen)" in page
    page = client.get("/training-jobs/compare?name=only-one&name=not-mine").content.decode()
    assert "not-mine" in re.search(r'id="compare-error"[^>]*>(.*?)</p>', page, re.S).group(1)
