"""Deploy in one step from the console: a model (its page's Deploy), a training job's model
(registered from the job's artifact and algorithm image, as CreateModel would) and a tuning
job's best trial, each on ``/endpoints/new`` as the model, training and tuning pages link it."""

from __future__ import annotations

import pytest

from console.core.names import account_id_for, arn
from console.endpoints.models import Endpoint, EndpointConfig
from console.registry.models import Model
from console.registry.selectors import model_containers
from console.training.models import TrainingJob
from console.tuning.models import HyperParameterTuningJob
from infra.storage import get_store

pytestmark = pytest.mark.django_db
DEPLOY = "endpoint-deploy/sagebrush"


def training_job(user, name: str, artifact: str, *, status: str = "Completed", **fields):
    """A training job as its flow leaves it (the rows the training flow writes)."""
    return TrainingJob.objects.create(
        owner=user,
        name=name,
        arn=arn("training-job", name, account_id=account_id_for(user.pk)),
        status=status,
        model_artifacts=artifact if status == "Completed" else "",
        spec={
            "AlgorithmSpecification": {"TrainingImage": "xgboost", "TrainingInputMode": "File"},
            "RoleArn": "arn:aws:iam::000000000000:role/data-science",
        },
        **fields,
    )


def test_a_models_deploy_button_makes_its_config_and_endpoint(
    console, model, flow_runs, django_capture_on_commit_callbacks
):
    page = console.get("/models/churn/").content.decode()
    assert 'href="/endpoints/new?model=churn"' in page
    assert "data-confirm=" in page.split('action="/models/churn/delete"')[1].split(">")[0]
    form = console.get("/endpoints/new?model=churn").content.decode()
    assert 'name="endpoint_name"' in form and 'value="churn"' in form
    assert 'name="model_name"' not in form  # the model is the page's

    with django_capture_on_commit_callbacks(execute=True):
        sent = console.post(
            "/endpoints/new?model=churn",
            {"endpoint_name": "churn-live", "instance_type": "ml.c5.xlarge", "instance_count": "2"},
        )
    assert sent["Location"] == "/endpoints/churn-live/"
    endpoint = Endpoint.objects.get(name="churn-live")
    assert endpoint.config_name == "churn-live" and endpoint.status == "Creating"
    [variant] = EndpointConfig.objects.get(name="churn-live").spec["ProductionVariants"]
    assert variant == {
        "VariantName": "AllTraffic",
        "ModelName": "churn",
        "InstanceType": "ml.c5.xlarge",
        "InitialInstanceCount": 2,
        "InitialVariantWeight": 1.0,
    }
    assert flow_runs == [(DEPLOY, {"endpoint_id": endpoint.pk})]

    # The config takes the endpoint's name: a name taken by either is refused at that field,
    # and nothing is left half-made.
    again = console.post(
        "/endpoints/new?model=churn",
        {"endpoint_name": "churn-live", "instance_type": "ml.m5.large", "instance_count": "1"},
    ).content.decode()
    assert "An endpoint config named churn-live already exists" in again
    assert 'href="#id_endpoint_name"' in again
    assert console.get("/endpoints/new?model=missing").status_code == 404


def test_a_training_jobs_model_is_registered_and_deployed(console, user, artifact, flow_runs):
    training_job(user, "xgb-1", artifact)
    form = console.get("/endpoints/new?training_job=xgb-1").content.decode()
    assert 'href="/training-jobs/xgb-1/"' in form and artifact in form and "xgboost" in form
    assert 'name="model_name"' in form

    sent = console.post(
        "/endpoints/new?training_job=xgb-1",
        {
            "endpoint_name": "xgb",
            "model_name": "xgb-1",
            "instance_type": "ml.m5.large",
            "instance_count": "1",
        },
    )
    assert sent["Location"] == "/endpoints/xgb/"
    model = Model.objects.get(name="xgb-1")
    assert model_containers(model) == [
        {"Image": "xgboost", "ModelDataUrl": artifact, "Environment": {}}
    ]
    assert model.spec["ExecutionRoleArn"] == "arn:aws:iam::000000000000:role/data-science"
    assert model.training_job_name == "xgb-1"  # the model page links the job
    assert Endpoint.objects.get(name="xgb").config_name == "xgb"

    # A second endpoint of the same job reuses its model; a model of another artifact is kept.
    console.post(
        "/endpoints/new?training_job=xgb-1",
        {
            "endpoint_name": "xgb-2",
            "model_name": "xgb-1",
            "instance_type": "ml.m5.large",
            "instance_count": "1",
        },
    )
    assert Endpoint.objects.filter(name="xgb-2").exists() and Model.objects.count() == 1
    training_job(user, "xgb-other", artifact.replace("job/", "other/"), status="Completed")
    clash = console.post(
        "/endpoints/new?training_job=xgb-other",
        {
            "endpoint_name": "xgb-3",
            "model_name": "xgb-1",
            "instance_type": "ml.m5.large",
            "instance_count": "1",
        },
    ).content.decode()
    assert "A model named xgb-1 already exists and serves another artifact" in clash
    assert not Endpoint.objects.filter(name="xgb-3").exists()


def test_a_running_training_job_cannot_be_deployed_yet(console, user, artifact):
    training_job(user, "still-running", artifact, status="InProgress")
    page = console.get("/endpoints/new?training_job=still-running").content.decode()
    assert "This job is InProgress" in page and 'id="request-form"' not in page
    refused = console.post(
        "/endpoints/new?training_job=still-running",
        {
            "endpoint_name": "early",
            "model_name": "early",
            "instance_type": "ml.m5.large",
            "instance_count": "1",
        },
    )
    assert refused.status_code == 200 and not Endpoint.objects.exists()
    assert not Model.objects.exists()


def test_a_tuning_jobs_best_trial_is_deployed(console, user, artifact):
    tuning = HyperParameterTuningJob.objects.create(
        owner=user,
        name="tune-1",
        arn=arn("hyper-parameter-tuning-job", "tune-1", account_id=account_id_for(user.pk)),
        status="Completed",
        spec={
            "HyperParameterTuningJobConfig": {
                "Strategy": "Bayesian",
                "HyperParameterTuningJobObjective": {
                    "Type": "Minimize",
                    "MetricName": "validation:rmse",
                },
                "ResourceLimits": {"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 1},
                "ParameterRanges": {},
            },
            "TrainingJobDefinition": {},
        },
    )
    for name, rmse in (("tune-1-001", 0.4), ("tune-1-002", 0.1)):
        trial_artifact = artifact.replace("job/", f"{name}/")
        get_store().write_bytes(trial_artifact, b"a trial's model")
        training_job(
            user,
            name,
            trial_artifact,
            tuning_job_arn=tuning.arn,
            final_metrics={"validation:rmse": rmse},
        )
    page = console.get("/endpoints/new?tuning_job=tune-1").content.decode()
    assert 'href="/tuning-jobs/tune-1/"' in page and "validation:rmse = 0.1" in page
    assert 'href="/training-jobs/tune-1-002/"' in page and 'value="tune-1-002"' in page

    console.post(
        "/endpoints/new?tuning_job=tune-1",
        {
            "endpoint_name": "best",
            "model_name": "tune-1-002",
            "instance_type": "ml.m5.large",
            "instance_count": "1",
        },
    )
    [container] = model_containers(Model.objects.get(name="tune-1-002"))
    assert container["ModelDataUrl"].endswith("/tune-1-002/output/model.tar.gz")
    assert Endpoint.objects.get(name="best").status == "Creating"
