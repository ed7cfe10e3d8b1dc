"""The SageMaker Python SDK's first-party estimators as the public notebooks use them, against the
live server: ``record_set`` uploads RecordIO-protobuf (through the platform's S3 API) and ``fit``
trains on it with the hyperparameters the estimator adds; the trained model answers the bytes of
the estimator's own predictor class and its deserializer reads the answer.

The job's flow runs in the test, as the serve process would run it.
"""

from __future__ import annotations

import io
import uuid

import numpy as np
import pytest
from sagemaker import KMeans, KMeansPredictor, LinearLearner, LinearLearnerPredictor
from sagemaker.session import Session

from algorithms.loading import load_model_uri
from flows.training import run_training_job
from infra.storage import get_store
from tests.console.conftest import sdk_session

pytestmark = pytest.mark.django_db(transaction=True)
ROLE = "arn:aws:iam::000000000000:role/sagebrush"


@pytest.fixture
def flow_runs_in_threads(run_flows_in_threads):
    return run_flows_in_threads(run_training_job)


@pytest.fixture
def session(live_server, sagemaker, access_key, flow_runs_in_threads, monkeypatch):
    for service in ("S3", "CLOUDWATCH_LOGS", "CLOUDWATCH"):
        monkeypatch.setenv(f"AWS_ENDPOINT_URL_{service}", live_server.url)
    session = sdk_session(access_key, sagemaker, f"first-party-{uuid.uuid4().hex[:8]}")
    session.default_bucket()  # the SDK creates it, as it does for a user
    return session


def _common(session: Session) -> dict:
    bucket = session.default_bucket()
    return {
        "role": ROLE,
        "instance_count": 1,
        "instance_type": "ml.m5.large",
        "output_path": f"s3://{bucket}/output",
        "data_location": f"s3://{bucket}/record-sets/",
        "sagemaker_session": session,
    }


def _answer(model_data: str, predictor, features: np.ndarray) -> list:
    """What the estimator's predictor class gets back for ``features`` from the trained model."""
    model = load_model_uri(model_data, get_store())
    body = predictor.serializer.serialize(features).read()
    answer = model.invoke(body, predictor.content_type, predictor.accept[0])
    return predictor.deserializer.deserialize(io.BytesIO(answer), predictor.accept[0])


def test_kmeans_fits_a_record_set(session, capsys) -> None:
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0, 0, 0], [8, 8, 0, 0], [0, 0, 8, 8]], dtype=np.float32)
    features = (centres[rng.integers(0, 3, size=600)] + rng.normal(size=(600, 4))).astype(
        np.float32
    )
    kmeans = KMeans(k=3, epochs=2, eval_metrics=["msd", "ssd"], **_common(session))
    kmeans.fit(kmeans.record_set(features[:500]), mini_batch_size=100)

    name = kmeans.latest_training_job.name
    described = session.sagemaker_client.describe_training_job(TrainingJobName=name)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    assert described["HyperParameters"]["force_dense"] == "True"
    records = _answer(kmeans.model_data, KMeansPredictor("unused", session), features[500:])
    assert len(records) == 100
    clusters = {int(r.label["closest_cluster"].float32_tensor.values[0]) for r in records}
    assert clusters == {0, 1, 2}
    assert all(r.label["distance_to_cluster"].float32_tensor.values[0] < 5 for r in records)


def test_linear_learner_binary_classifier_fits_a_labelled_record_set(session) -> None:
    rng = np.random.default_rng(1)
    features = rng.normal(size=(800, 6)).astype(np.float32)
    labels = (features[:, 0] - features[:, 1] > 0).astype(np.float32)
    learner = LinearLearner(
        predictor_type="binary_classifier",
        epochs=3,
        binary_classifier_model_selection_criteria="f_beta",
        num_models=4,
        **_common(session),
    )
    train = learner.record_set(features[:600], labels[:600])
    test = learner.record_set(features[600:], labels[600:], channel="test")
    learner.fit([train, test], mini_batch_size=100)

    name = learner.latest_training_job.name
    described = session.sagemaker_client.describe_training_job(TrainingJobName=name)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    finals = {m["MetricName"]: m["Value"] for m in described["FinalMetricDataList"]}
    assert finals["test:binary_classification_accuracy"] > 0.9
    records = _answer(learner.model_data, LinearLearnerPredictor("unused", session), features[600:])
    predicted = np.array([r.label["predicted_label"].float32_tensor.values[0] for r in records])
    assert np.mean(predicted == labels[600:]) > 0.9
    assert all(0 <= r.label["score"].float32_tensor.values[0] <= 1 for r in records)
