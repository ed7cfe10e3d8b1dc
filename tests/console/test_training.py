"""Training jobs through the services, the REST API and the console pages (the flow's work run
in-process)."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from console.core.errors import AlreadyExists, ValidationError
from console.core.shapes import ShapeError, response_violations
from console.training.models import TrainingJob
from console.training.selectors import training_job_describe
from console.training.services import training_job_create
from flows.training import run_training_job
from infra.storage import get_store
from tests.flows.test_training import channel, request

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def snake_request(bucket: str, name: str = "rest-job") -> dict:
    return {
        "training_job_name": name,
        "role_arn": "arn:aws:iam::000000000000:role/sagebrush",
        "algorithm_specification": {"training_image": "lightgbm", "training_input_mode": "File"},
        "hyper_parameters": {"num_boost_round": "5", "objective": "binary"},
        "input_data_config": [
            {
                "channel_name": "train",
                "data_source": {
                    "s3_data_source": {
                        "s3_data_type": "S3Prefix",
                        "s3_uri": f"s3://{bucket}/train/",
                    }
                },
            }
        ],
        "output_data_config": {"s3_output_path": f"s3://{bucket}/out"},
        "resource_config": {
            "instance_type": "ml.m5.large",
            "instance_count": 1,
            "volume_size_in_gb": 1,
        },
        "stopping_condition": {"max_runtime_in_seconds": 300},
    }


def test_rest_create_describe_and_stop(api, data_bucket):
    created = api.post("/api/v1/training-jobs/", snake_request(data_bucket), format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["training_job_status"] == "InProgress"
    assert body["hyper_parameters"] == {"num_boost_round": "5", "objective": "binary"}
    assert body["model_artifacts"]["s3_model_artifacts"].endswith(
        "/out/rest-job/output/model.tar.gz"
    )

    assert api.post("/api/v1/training-jobs/rest-job/stop/").status_code == 202
    detail = api.get("/api/v1/training-jobs/rest-job/").json()
    assert (detail["training_job_status"], detail["secondary_status"]) == ("Stopping", "Stopping")
    again = api.post("/api/v1/training-jobs/rest-job/stop/")
    assert again.status_code == 409 and "in status Stopping" in again.json()["detail"]


def test_rest_refuses_bad_requests_naming_the_field(api, data_bucket):
    bad = snake_request(data_bucket, name="bad_name")
    bad["hyper_parameters"]["num_boost_round"] = "0"
    response = api.post("/api/v1/training-jobs/", bad, format="json")
    assert response.status_code == 400
    assert "training_job_name" in response.json()["errors"]

    response = api.post("/api/v1/training-jobs/", {**bad, "training_job_name": "ok"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "hyper_parameters.num_boost_round": ["must be between 1 and 100000 (got '0')"]
    }
    assert api.get("/api/v1/training-jobs/").json()["count"] == 0


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"HyperParameters": {"num_round": "ten"}}, "HyperParameters.num_round", "integer"),
        ({"HyperParameters": {"bogus": "1"}}, "HyperParameters.bogus", "not a hyperparameter"),
        (
            {"AlgorithmSpecification": {"TrainingImage": "nope", "TrainingInputMode": "File"}},
            "AlgorithmSpecification.TrainingImage",
            "names no built-in algorithm",
        ),
    ],
)
def test_bad_requests_are_refused_naming_the_field(user, data_bucket, changes, field, rule):
    with pytest.raises(ValidationError) as raised:
        training_job_create(user=user, spec=request(data_bucket, **changes))
    assert raised.value.field == field
    assert rule in raised.value.rule
    assert not TrainingJob.objects.exists()


def test_a_train_channel_is_required(user, data_bucket):
    only_validation = [channel("validation", f"s3://{data_bucket}/validation/")]
    with pytest.raises(ValidationError, match="needs a channel named 'train'"):
        training_job_create(user=user, spec=request(data_bucket, InputDataConfig=only_validation))


@pytest.mark.parametrize("content_type", ["csv", "text/csv; label_size=1", "libsvm"])
def test_content_types_are_read_in_every_spelling_the_algorithm_reads(
    user, data_bucket, content_type
):
    train = channel("train", f"s3://{data_bucket}/train/", content_type)
    job = training_job_create(user=user, spec=request(data_bucket, InputDataConfig=[train]))
    assert job.spec["InputDataConfig"][0]["ContentType"] == content_type  # as the user wrote it


def test_a_prefix_matching_nothing_is_refused(user, data_bucket):
    spec = request(data_bucket, InputDataConfig=[channel("train", f"s3://{data_bucket}/nothing/")])
    with pytest.raises(ValidationError) as raised:
        training_job_create(user=user, spec=spec)
    assert raised.value.field == "InputDataConfig.1.DataSource.S3DataSource.S3Uri"
    assert "matches no objects" in raised.value.rule


SOURCE = "InputDataConfig.1.DataSource.S3DataSource"


@pytest.mark.parametrize(
    ("names", "content_type", "field", "rule"),
    [
        (None, "text/csv", f"{SOURCE}.AttributeNames", "required when S3DataType is Augmented"),
        ([], "text/csv", f"{SOURCE}.AttributeNames", "required when S3DataType is Augmented"),
        (["source", "$label"], "text/csv", f"{SOURCE}.AttributeNames.2", "not starting with '$'"),
        (["source", " "], "text/csv", f"{SOURCE}.AttributeNames.2", "not blank"),
        (["source", "source"], "text/csv", f"{SOURCE}.AttributeNames", "distinct"),
        (["source", "a", "b"], "text/csv", f"{SOURCE}.AttributeNames", "at most two attributes"),
        (
            ["source", "species"],
            "application/jsonlines",
            "InputDataConfig.1.ContentType",
            "text/csv",
        ),
    ],
)
def test_augmented_manifest_channels_are_refused_naming_the_field(
    user, data_bucket, names, content_type, field, rule
):
    uri = f"s3://{data_bucket}/gt/output.manifest"
    get_store().write_bytes(uri, b'{"source": "1,2", "species": 1}\n')
    source = {"S3DataType": "AugmentedManifestFile", "S3Uri": uri}
    if names is not None:
        source["AttributeNames"] = names
    train = {**channel("train", uri, content_type), "DataSource": {"S3DataSource": source}}
    with pytest.raises(ValidationError) as raised:
        training_job_create(user=user, spec=request(data_bucket, InputDataConfig=[train]))
    assert raised.value.field.startswith(field)
    assert rule in raised.value.rule
    assert not TrainingJob.objects.exists()


@pytest.mark.parametrize(
    ("names", "rule"),
    [
        (
            [f"a{n}" for n in range(17)],
            "attributeNames' failed to satisfy constraint: Member must "
            "have length less than or equal to 16",
        ),
        (
            ["source", ""],
            "attributeNames.2' failed to satisfy constraint: Member must have length "
            "greater than or equal to 1",
        ),
        (
            ["source", "x" * 257],
            "attributeNames.2' failed to satisfy constraint: Member must have "
            "length less than or equal to 256",
        ),
    ],
)
def test_attribute_names_break_the_request_shape_naming_the_member(user, data_bucket, names, rule):
    uri = f"s3://{data_bucket}/gt/output.manifest"
    source = {"S3DataType": "AugmentedManifestFile", "S3Uri": uri, "AttributeNames": names}
    train = {**channel("train", uri), "DataSource": {"S3DataSource": source}}
    with pytest.raises(ShapeError) as raised:
        training_job_create(user=user, spec=request(data_bucket, InputDataConfig=[train]))
    assert f"inputDataConfig.1.dataSource.s3DataSource.{rule}" in str(raised.value)
    assert not TrainingJob.objects.exists()


def test_an_augmented_manifest_channel_is_accepted_and_must_exist(user, data_bucket):
    uri = f"s3://{data_bucket}/gt/output.manifest"
    source = {"S3DataType": "AugmentedManifestFile", "S3Uri": uri}
    source["AttributeNames"] = ["source", "species"]
    train = {**channel("train", uri), "DataSource": {"S3DataSource": source}}
    with pytest.raises(ValidationError) as raised:
        training_job_create(user=user, spec=request(data_bucket, InputDataConfig=[train]))
    assert raised.value.field == f"{SOURCE}.S3Uri"
    assert "names no augmented manifest object" in raised.value.rule

    get_store().write_bytes(uri, b'{"source": "1,2", "species": 1}\n')
    job = training_job_create(user=user, spec=request(data_bucket, InputDataConfig=[train]))
    assert job.status == "InProgress"


def test_duplicate_names_are_refused(user, data_bucket):
    training_job_create(user=user, spec=request(data_bucket))
    with pytest.raises(AlreadyExists, match="must be unique"):
        training_job_create(user=user, spec=request(data_bucket))


def test_console_shows_a_finished_job_with_charts_log_and_model_link(client, user, data_bucket):
    job = training_job_create(user=user, spec=request(data_bucket, name="page-job"))
    run_training_job(job.pk)
    client.force_login(user)

    listing = client.get("/training-jobs/?status=Completed").content.decode()
    assert 'href="/training-jobs/page-job/"' in listing
    page = client.get("/training-jobs/page-job/").content.decode()
    assert "Download model.tar.gz" in page
    assert "<polyline" in page  # the per-iteration validation:auc chart
    assert "Model uploaded to" in page
    assert "/models/new?training_job=page-job" in page

    form = client.get("/models/new?training_job=page-job").content.decode()
    assert job.model_artifacts in form  # the container line is filled in from the job
    created = client.post(
        "/models/new", {"name": "page-model", "containers": f"xgboost {job.model_artifacts}"}
    )
    assert created.status_code == 302 and created.url == "/models/page-model/"
    model_page = client.get(created.url).content.decode()
    assert 'href="/training-jobs/page-job/"' in model_page
    again = {"name": "page-model", "containers": f"xgboost {job.model_artifacts}"}
    assert "already exists" in client.post("/models/new", again).content.decode()


def test_console_form_refuses_what_the_api_refuses(client, user, data_bucket):
    client.force_login(user)
    form = {
        "name": "form-job",
        "algorithm": "xgboost",
        "hyperparameters": "num_round=10\nobjective=binary:nonsense",
        "train_uri": f"s3://{data_bucket}/train/",
        "content_type": "text/csv",
        "output_path": f"s3://{data_bucket}/out",
        "instance_count": 1,
        "max_runtime": 600,
    }
    refused = client.post("/training-jobs/new", form)
    assert refused.status_code == 200
    assert "objective" in refused.content.decode() and "errorlist" in refused.content.decode()

    form["hyperparameters"] = "num_round=10\nobjective=binary:logistic"
    created = client.post("/training-jobs/new", form)
    assert created.status_code == 302 and created.url == "/training-jobs/form-job/"


def test_describe_fits_botocores_response_shape(user, data_bucket):
    job = training_job_create(user=user, spec=request(data_bucket, name="shape-job"))
    run_training_job(job.pk)
    job.refresh_from_db()
    response = training_job_describe(job)
    as_sent = json.loads(json.dumps(response, default=lambda value: value.timestamp()))
    assert response_violations("DescribeTrainingJob", as_sent) == []


@pytest.mark.django_db(transaction=True)
def test_a_job_whose_flow_run_cannot_start_ends_failed_saying_why(user, data_bucket):
    # The test settings point Prefect at a port where nothing listens.
    job = training_job_create(user=user, spec=request(data_bucket, "no-prefect"))

    described = training_job_describe(TrainingJob.objects.get(pk=job.pk))
    assert described["TrainingJobStatus"] == "Failed"
    assert described["FailureReason"].startswith("The platform could not start its flow run")
    assert described["SecondaryStatus"] == "Failed"
    last = described["SecondaryStatusTransitions"][-1]
    assert last["Status"] == "Failed" and "could not start" in last["StatusMessage"]
    assert not described["ModelArtifacts"]["S3ModelArtifacts"]  # nothing was published
