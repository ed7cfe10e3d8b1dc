"""Tuning jobs through the SageMaker API (boto3), the REST API and the console pages."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from botocore.exceptions import ClientError
from rest_framework.test import APIClient

from console.core.shapes import response_violations
from console.training.models import TrainingJob
from console.tuning.describe import tuning_job_describe, tuning_job_trial_summaries
from console.tuning.models import HyperParameterTuningJob
from console.tuning.services import tuning_job_create
from flows.training import run_training_job
from flows.tuning import run_tuning_job
from tests.console.test_tuning import request

# The tuning routes ahead of the site's own, whichever way console/urls.py includes them.
pytestmark = pytest.mark.django_db


def as_sent(response: dict) -> dict:
    return json.loads(json.dumps(response, default=lambda value: value.timestamp()))


@pytest.fixture
def finished(user, data_bucket) -> HyperParameterTuningJob:
    """A Bayesian job of four trials run to its end in this process; one trial then lost its
    metric (as a failed trial would), so every kind of summary appears."""
    job = tuning_job_create(user=user, spec=request(data_bucket, name="done"))
    run_tuning_job(job.pk, poll_seconds=0.01, run_trial=run_training_job)
    job.refresh_from_db()
    return job


def test_describe_and_trial_summaries_fit_botocores_shapes(finished):
    described = tuning_job_describe(finished)
    assert response_violations("DescribeHyperParameterTuningJob", as_sent(described)) == []
    summaries = tuning_job_trial_summaries(finished)
    page = {"TrainingJobSummaries": summaries}
    assert response_violations("ListTrainingJobsForHyperParameterTuningJob", as_sent(page)) == []
    assert [s["TrainingJobName"] for s in summaries] == sorted(
        s["TrainingJobName"] for s in summaries
    )


def test_sorting_by_the_objective_leaves_out_trials_without_one(finished):
    trials = list(TrainingJob.objects.filter(tuning_job_arn=finished.arn))
    trials[0].status, trials[0].final_metrics = "Failed", {}
    trials[0].save()
    ranked = tuning_job_trial_summaries(
        finished, sort_by="FinalObjectiveMetricValue", descending=False
    )
    values = [s["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for s in ranked]
    assert len(ranked) == 3 and values == sorted(values)
    assert tuning_job_describe(finished)["ObjectiveStatusCounters"] == {
        "Succeeded": 3,
        "Pending": 0,
        "Failed": 1,
    }
    assert tuning_job_describe(finished)["TrainingJobStatusCounters"]["NonRetryableError"] == 1


# -- boto3 (a live server; jobs are created through the service here, with no Prefect to start
# their flow, so they fail at once saying so; boto3's own create is exercised end to end) -------


@pytest.fixture
def boto3_sagemaker(sagemaker):
    yield sagemaker
    sagemaker.close()


def create_without_prefect(user, spec) -> HyperParameterTuningJob:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        return tuning_job_create(user=user, spec=spec)


@pytest.mark.django_db(transaction=True)
def test_boto3_describe_list_and_stop(boto3_sagemaker, user, data_bucket):
    sm = boto3_sagemaker
    job = create_without_prefect(user, request(data_bucket, name="Boto-Tune"))
    assert job.arn.endswith(":hyper-parameter-tuning-job/boto-tune")
    described = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="boto-tune")
    assert described["HyperParameterTuningJobArn"] == job.arn
    assert described["HyperParameterTuningJobConfig"]["Strategy"] == "Bayesian"
    assert isinstance(described["CreationTime"], datetime)
    assert set(described["TrainingJobStatusCounters"]) == {
        "Completed",
        "InProgress",
        "RetryableError",
        "NonRetryableError",
        "Stopped",
    }
    [summary] = sm.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"]
    assert summary["HyperParameterTuningJobName"] == "Boto-Tune"
    trials = sm.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="Boto-Tune"
    )
    assert trials["TrainingJobSummaries"] == []

    HyperParameterTuningJob.objects.filter(name="Boto-Tune").update(status="InProgress")
    sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="Boto-Tune")
    assert (
        sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="Boto-Tune")[
            "HyperParameterTuningJobStatus"
        ]
        == "Stopping"
    )
    with pytest.raises(ClientError) as raised:
        sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="Boto-Tune")
    assert raised.value.response["Error"]["Code"] == "ValidationException"

    with pytest.raises(ClientError) as raised:
        sm.create_hyper_parameter_tuning_job(**request(data_bucket, name="boto-tune"))
    assert raised.value.response["Error"]["Code"] == "ResourceInUse"
    with pytest.raises(ClientError) as raised:
        sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="nobody")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFound"


@pytest.mark.django_db(transaction=True)
def test_boto3_refusals_are_validation_exceptions(boto3_sagemaker, user, data_bucket):
    sm = boto3_sagemaker
    cases = {
        "Grid strategy accepts only categorical": request(data_bucket, Strategy="Grid"),
        "Must be Off for the Hyperband": request(
            data_bucket, Strategy="Hyperband", TrainingJobEarlyStoppingType="Auto"
        ),
        "Member must satisfy enum": request(data_bucket, Strategy="Genetic"),
    }
    for words, spec in cases.items():
        with pytest.raises(ClientError) as raised:
            sm.create_hyper_parameter_tuning_job(**spec)
        assert raised.value.response["Error"]["Code"] == "ValidationException"
        assert words in raised.value.response["Error"]["Message"]
    assert sm.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"] == []


# -- REST ----------------------------------------------------------------------------------------


@pytest.fixture
def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def snake(value):
    """A PascalCase request as the REST API takes it (map keys kept)."""
    from console.core.casing import snake_name

    if isinstance(value, dict):
        keep = {"StaticHyperParameters"}
        return {snake_name(k): (v if k in keep else snake(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [snake(v) for v in value]
    return value


def test_rest_create_detail_and_refusal(api, data_bucket):
    created = api.post(
        "/api/v1/tuning-jobs/", snake(request(data_bucket, name="rest")), format="json"
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["hyper_parameter_tuning_job_status"] == "InProgress"
    assert body["training_job_status_counters"]["completed"] == 0
    detail = api.get("/api/v1/tuning-jobs/rest/").json()
    assert detail["hyper_parameter_tuning_job_config"]["strategy"] == "Bayesian"

    bad = api.post(
        "/api/v1/tuning-jobs/",
        snake(
            request(
                data_bucket,
                name="rest-bad",
                Strategy="Hyperband",
                TrainingJobEarlyStoppingType="Auto",
            )
        ),
        format="json",
    )
    assert bad.status_code == 400
    assert (
        "hyper_parameter_tuning_job_config.training_job_early_stopping_type" in bad.json()["errors"]
    )


def test_rest_trials_and_surrogate(api, finished):
    trials = api.get("/api/v1/tuning-jobs/done/trials/?sort_by=FinalObjectiveMetricValue").json()
    values = [
        t["final_hyper_parameter_tuning_job_objective_metric"]["value"]
        for t in trials["training_job_summaries"]
    ]
    assert len(values) == 4 and values == sorted(values)

    surrogate = api.get("/api/v1/tuning-jobs/done/surrogate/?parameter=learning_rate").json()
    curve = surrogate["slice"]
    assert curve["parameter"] == "learning_rate" and curve["scale"] == "Logarithmic"
    assert len(curve["values"]) == len(curve["mean"]) > 10
    assert all(
        lo <= m <= hi
        for lo, m, hi in zip(curve["lower"], curve["mean"], curve["upper"], strict=True)
    )
    assert api.get("/api/v1/tuning-jobs/done/surrogate/?parameter=nope").status_code == 400


# -- console pages -------------------------------------------------------------------------------


@pytest.fixture
def browser(client, user):
    client.force_login(user)
    return client


def test_list_and_detail_pages_show_trials_and_charts(browser, finished):
    listing = browser.get("/tuning-jobs/").content.decode()
    assert "done" in listing and finished.best_training_job_name in listing

    page = browser.get("/tuning-jobs/done/").content.decode()
    assert 'id="trials"' in page and page.count("/training-jobs/done-0") >= 4
    assert "best so far" in page and "<svg" in page  # the best-so-far curve, drawn here
    assert 'data-parameter="learning_rate"' in page and 'id="parallel"' in page
    assert 'id="surrogate-parameter"' in page and "tuning/tuning.js" in page
    assert finished.best_training_job_name in page

    surrogate = browser.get("/tuning-jobs/done/surrogate.json?parameter=num_leaves").json()
    assert surrogate["slice"]["kind"] == "Integer"
    assert browser.get("/static/tuning/tuning.js").status_code == 200
    assert browser.get("/tuning-jobs/nobody/").status_code == 404
