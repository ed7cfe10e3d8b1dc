"""The create-tuning-job form: a ranges builder from the algorithm's schema that ends in the
service the SageMaker API uses, refusals at the row they name, clone and warm start, and the
links from a tuning job's page (clone, compare trials, deploy the best)."""

from __future__ import annotations

import re

import pytest

from console.training.models import TrainingJob
from console.training.services import training_job_finish
from console.tuning.models import HyperParameterTuningJob
from console.tuning.services import tuning_job_finish, tuning_job_launch_trial

pytestmark = pytest.mark.django_db


@pytest.fixture
def flow_runs(monkeypatch) -> list[str]:
    """The deployments whose flow runs were started (none runs)."""
    started: list[str] = []
    monkeypatch.setattr(
        "infra.prefect.start_flow_run",
        lambda deployment, *, parameters: started.append(deployment),
    )
    return started


def form(bucket: str, **changes) -> dict:
    values = {
        "name": "form-tune",
        "algorithm": "lightgbm",
        "hp-learning_rate-mode": "tune",
        "hp-learning_rate-min": "0.01",
        "hp-learning_rate-max": "0.5",
        "hp-learning_rate-scaling": "Logarithmic",
        "hp-num_leaves-mode": "tune",
        "hp-num_leaves-min": "2",
        "hp-num_leaves-max": "16",
        "hp-num_leaves-scaling": "Auto",
        "hp-objective-mode": "static",
        "hp-objective-value": "binary",
        "hp-num_boost_round-mode": "static",
        "hp-num_boost_round-value": "10",
        "objective_metric": "validation:binary_logloss",
        "objective_type": "Minimize",
        "strategy": "Bayesian",
        "max_jobs": 4,
        "max_parallel": 2,
        "early_stopping": "Off",
        "random_seed": 7,
        "train_uri": f"s3://{bucket}/train/",
        "validation_uri": f"s3://{bucket}/validation/",
        "content_type": "text/csv",
        "output_path": f"s3://{bucket}/tuning",
        "instance_count": 1,
        "trial_max_runtime": 300,
        "warm_start_type": "IdenticalDataAndAlgorithm",
    }
    values.update(changes)
    return values


def test_the_form_shows_the_algorithms_ranges_and_metrics(client, user):
    client.force_login(user)
    page = client.get("/tuning-jobs/new?algorithm=lightgbm").content.decode()
    assert 'data-hyperparameter="num_leaves" data-kind="Integer"' in page
    assert 'data-hyperparameter="learning_rate" data-kind="Continuous"' in page
    assert 'data-hyperparameter="objective" data-kind="Categorical"' in page
    assert '<option value="validation:auc">' in page
    assert '<option value="ReverseLogarithmic">' in page  # for learning_rate, a Continuous row
    fragment = client.get("/tuning-jobs/new/ranges?algorithm=xgboost").content.decode()
    assert 'data-hyperparameter="eta"' in fragment and "num_leaves" not in fragment


def test_the_form_creates_the_job_through_the_service(
    client, user, data_bucket, flow_runs, django_capture_on_commit_callbacks
):
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):  # the flow starts once committed
        created = client.post("/tuning-jobs/new", form(data_bucket))
    assert created.status_code == 302 and created.url == "/tuning-jobs/form-tune/"
    assert flow_runs == ["tuning/sagebrush"]
    spec = HyperParameterTuningJob.objects.get(name="form-tune").spec
    config = spec["HyperParameterTuningJobConfig"]
    assert config["ParameterRanges"] == {
        "IntegerParameterRanges": [
            {"Name": "num_leaves", "MinValue": "2", "MaxValue": "16", "ScalingType": "Auto"}
        ],
        "ContinuousParameterRanges": [
            {
                "Name": "learning_rate",
                "MinValue": "0.01",
                "MaxValue": "0.5",
                "ScalingType": "Logarithmic",
            }
        ],
    }
    assert config["HyperParameterTuningJobObjective"] == {
        "Type": "Minimize",
        "MetricName": "validation:binary_logloss",
    }
    assert config["ResourceLimits"] == {"MaxNumberOfTrainingJobs": 4, "MaxParallelTrainingJobs": 2}
    definition = spec["TrainingJobDefinition"]
    assert definition["StaticHyperParameters"] == {"objective": "binary", "num_boost_round": "10"}
    assert "WarmStartConfig" not in spec


def test_a_refused_range_is_shown_at_its_row(client, user, data_bucket, flow_runs):
    client.force_login(user)
    page = client.post("/tuning-jobs/new", form(data_bucket, **{"hp-num_leaves-min": "1"}))
    page = page.content.decode()
    summary = re.search(r'<div class="error-summary".*?</div>', page, re.S).group(0)
    assert 'href="#id_hp-num_leaves-min"' in summary and "num_leaves" in summary
    assert "autofocus" in re.search(r'<input[^>]*name="hp-num_leaves-min"[^>]*>', page).group(0)
    # A tuned row without its bounds is refused before the service is asked.
    page = client.post("/tuning-jobs/new", form(data_bucket, **{"hp-num_leaves-max": ""}))
    assert "Give num_leaves a max to tune it." in page.content.decode()
    assert not HyperParameterTuningJob.objects.exists() and flow_runs == []


def test_clone_warm_start_and_the_jobs_links(client, user, data_bucket, flow_runs):
    client.force_login(user)
    client.post("/tuning-jobs/new", form(data_bucket))
    job = HyperParameterTuningJob.objects.get(name="form-tune")
    trials = [
        tuning_job_launch_trial(job_id=job.pk, index=i, hyperparameters={"num_leaves": str(n)})
        for i, n in ((1, 4), (2, 8))
    ]
    for trial, loss in zip(trials, (0.4, 0.3), strict=True):
        training_job_finish(job_id=trial.pk, final_metrics={"validation:binary_logloss": loss})
    tuning_job_finish(job_id=job.pk, status="Completed")

    page = client.get("/tuning-jobs/form-tune/").content.decode()
    assert 'href="/endpoints/new?tuning_job=form-tune"' in page  # Deploy best
    assert 'action="/training-jobs/compare"' in page
    for trial in trials:
        assert f'form="compare-trials" name="name" value="{trial.name}"' in page
    trial_page = client.get(f"/training-jobs/{trials[0].name}/").content.decode()
    assert 'id="tuning-job-link" href="/tuning-jobs/form-tune/"' in trial_page
    compare = f"/training-jobs/compare?name={trials[0].name}&name={trials[1].name}"
    assert 'data-name="num_leaves"' in client.get(compare).content.decode()

    page = client.get("/tuning-jobs/new?clone=form-tune&warm_start=1").content.decode()
    assert 'value="form-tune-copy"' in page
    assert re.search(
        r'name="hp-learning_rate-mode"[^>]*>.*?<option value="tune" selected>', page, re.S
    )
    assert 'value="0.01"' in page and 'value="binary"' in page
    assert '<option value="form-tune" selected>' in page  # the warm-start parent

    values = form(data_bucket, name="form-tune-2", warm_start_parents=["form-tune"])
    created = client.post("/tuning-jobs/new", values)
    assert created.status_code == 302
    warm = HyperParameterTuningJob.objects.get(name="form-tune-2").spec["WarmStartConfig"]
    assert warm == {
        "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": "form-tune"}],
        "WarmStartType": "IdenticalDataAndAlgorithm",
    }
    assert TrainingJob.objects.count() == 2  # the trials; the new job's flow did not run
