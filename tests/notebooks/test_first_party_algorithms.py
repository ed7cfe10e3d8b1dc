"""SageMaker's first-party algorithms as the public notebooks drive them with the SDK v2's estimator
classes: ``estimator.fit(estimator.record_set(...))`` on RecordIO-protobuf, ``deploy``, and the
estimator's own predictor with its defaults (RecordIO-protobuf both ways, ``Record`` objects
back), each endpoint deleted when its flow is done.

Notebooks (aws/amazon-sagemaker-examples, introduction_to_amazon_algorithms/ and
introduction_to_applying_machine_learning/): ``linear_learner_mnist`` (is the digit a 0?),
``factorization_machines_mnist`` and ``k_nearest_neighbors_covtype``. Their downloads are
synthetic data of the same shapes (28 x 28 images of ten digits; 54 cover-type features and
seven classes), a few hundred rows each; epochs are fewer.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.notebooks.cells import ROLE
from tests.stack import STACK_START_S

pytestmark = pytest.mark.timeout(STACK_START_S + 300)

INSTANCE = "ml.c4.xlarge"


def mnist_like(rows: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``mnist.pkl.gz``'s shape: float32 images of 784 pixels in [0, 1] and their digits, each
    digit a fixed stroke pattern plus noise."""
    rng = np.random.default_rng(seed)
    strokes = (np.random.default_rng(99).random((10, 784)) < 0.15).astype(np.float32)
    digits = rng.integers(0, 10, size=rows)
    images = 0.8 * strokes[digits] + 0.3 * rng.random((rows, 784), dtype=np.float32)
    return np.clip(images, 0, 1).astype(np.float32), digits.astype(np.float32)


def _labels(records, key: str = "predicted_label") -> np.ndarray:
    return np.array([record.label[key].float32_tensor.values[0] for record in records])


def test_linear_learner_and_factorization_machines_on_mnist(user_env):
    import sagemaker
    from sagemaker import FactorizationMachines, LinearLearner

    sess = sagemaker.Session()
    bucket = sess.default_bucket()
    prefix = "sagemaker/DEMO-linear-mnist"
    train_set, test_set = mnist_like(800, seed=1), mnist_like(100, seed=2)
    train_labels = np.where(train_set[1] == 0, 1, 0).astype("float32")
    test_labels = np.where(test_set[1] == 0, 1, 0)

    # linear_learner_mnist: record_set, fit, deploy, the LinearLearnerPredictor's defaults.
    linear = LinearLearner(
        role=ROLE,  # sagemaker.get_execution_role() in a SageMaker notebook
        instance_count=1,
        instance_type=INSTANCE,
        predictor_type="binary_classifier",
        output_path=f"s3://{bucket}/{prefix}/output",
        sagemaker_session=sess,
    )
    linear.fit(linear.record_set(train_set[0], labels=train_labels), mini_batch_size=200)
    linear_predictor = linear.deploy(initial_instance_count=1, instance_type="ml.m4.xlarge")
    try:
        result = linear_predictor.predict(test_set[0])
    finally:
        linear_predictor.delete_endpoint()
    assert len(result) == 100
    assert np.mean(_labels(result) == test_labels) > 0.95  # all-zero answers score 0.9
    assert all(0 <= r.label["score"].float32_tensor.values[0] <= 1 for r in result)

    # factorization_machines_mnist: the same question, ten factors.
    fm = FactorizationMachines(
        role=ROLE,
        instance_count=1,
        instance_type=INSTANCE,
        num_factors=10,
        predictor_type="binary_classifier",
        epochs=10,
        output_path=f"s3://{bucket}/sagemaker/DEMO-fm-mnist/output",
        sagemaker_session=sess,
    )
    fm.fit(fm.record_set(train_set[0], labels=train_labels), mini_batch_size=200)
    fm_predictor = fm.deploy(initial_instance_count=1, instance_type="ml.m4.xlarge")
    try:
        result = fm_predictor.predict(test_set[0])
    finally:
        fm_predictor.delete_endpoint()
    assert len(result) == 100
    assert np.mean(_labels(result) == test_labels) > 0.95  # all-zero answers score 0.9


def test_knn_classifies_cover_types(user_env):
    import sagemaker
    from sagemaker import KNN

    sess = sagemaker.Session()
    bucket = sess.default_bucket()
    rng = np.random.default_rng(4)
    centres = rng.normal(scale=3, size=(7, 54))
    cover = rng.integers(0, 7, size=500)
    features = (centres[cover] + rng.normal(size=(500, 54))).astype("float32")
    labels = cover.astype("float32")

    knn = KNN(
        role=ROLE,
        instance_count=1,
        instance_type="ml.m5.2xlarge",
        k=10,
        sample_size=400,
        predictor_type="classifier",
        output_path=f"s3://{bucket}/knn/output",
        sagemaker_session=sess,
    )
    train = knn.record_set(features[:400], labels=labels[:400])
    test = knn.record_set(features[400:], labels=labels[400:], channel="test")
    knn.fit([train, test])
    described = sess.sagemaker_client.describe_training_job(
        TrainingJobName=knn.latest_training_job.name
    )
    finals = {m["MetricName"]: m["Value"] for m in described["FinalMetricDataList"]}
    assert finals["test:accuracy"] > 0.9

    knn_predictor = knn.deploy(initial_instance_count=1, instance_type="ml.m5.xlarge")
    try:
        result = knn_predictor.predict(features[400:])
    finally:
        knn_predictor.delete_endpoint()
    assert np.mean(_labels(result) == labels[400:]) > 0.9
