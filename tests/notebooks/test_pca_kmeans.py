"""PCA then k-means, cell by cell with the SDK v2 as the US census population segmentation
notebook drives them: ``PCA(num_components=...)`` fitted on ``pca.record_set(...)`` of a NumPy
array, deployed, its ``projection`` answers taken as the reduced data; ``KMeans(k=...)`` fitted
on those, deployed, its ``closest_cluster``/``distance_to_cluster`` answers; each job's
``model.tar.gz`` downloaded and untarred and ``model_algo-1`` opened; both endpoints deleted.

Notebook: introduction_to_applying_machine_learning/US-census_population_segmentation_PCA_Kmeans
in aws/amazon-sagemaker-examples. Its census table (3,218 counties x 34 scaled columns) is
synthetic here: three blobs of 100 rows in 10 dimensions, so the clusters k-means finds can be
checked against the blobs. The notebook opens ``model_algo-1`` with ``mx.ndarray.load``; MXNet
no longer installs, and ``algorithms.ndarray_file.load`` is the same call without it (README).
"""

from __future__ import annotations

import tarfile

import numpy as np
import pytest

from algorithms import ndarray_file
from tests.notebooks.cells import ROLE
from tests.stack import STACK_START_S

pytestmark = pytest.mark.timeout(STACK_START_S + 180)

INSTANCE = "ml.m5.large"
BLOBS, ROWS_PER_BLOB, FEATURES = 3, 100, 10


def blobs(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Rows of three well-separated Gaussian blobs, each column scaled as the notebook scales
    its table (there with ``MinMaxScaler``, here to mean 0 and variance 1), and each row's blob."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=4, size=(BLOBS, FEATURES))
    blob = np.repeat(np.arange(BLOBS), ROWS_PER_BLOB)
    rows = centres[blob] + rng.normal(size=(blob.size, FEATURES))
    return (rows - rows.mean(axis=0)) / rows.std(axis=0), blob


def _model_algo(sess, estimator, tmp_path) -> list | dict:
    """The notebook's cells: the job's ``model.tar.gz`` downloaded, untarred, loaded."""
    import boto3

    job_name = estimator.latest_training_job.name
    bucket_name = sess.default_bucket()
    model_key = f"counties/{job_name}/output/model.tar.gz"
    boto3.resource("s3").Bucket(bucket_name).download_file(model_key, "model.tar.gz")
    with tarfile.open("model.tar.gz") as tar:  # os.system("tar -zxvf model.tar.gz")
        tar.extractall(tmp_path, filter="data")
    return ndarray_file.load("model_algo-1")  # mx.ndarray.load("model_algo-1")


@pytest.fixture
def quick_sdk_waits(monkeypatch):
    """The SDK's waits, polling every second: at its defaults (a training job's log every 10 s,
    an endpoint every 30 s) this flow would spend most of its time asleep. The notebook's calls
    are unchanged."""
    from sagemaker.session import Session

    logs_for_job, wait_for_endpoint = Session.logs_for_job, Session.wait_for_endpoint
    monkeypatch.setattr(
        Session,
        "logs_for_job",
        lambda self, *args, **kwargs: logs_for_job(self, *args, **{**kwargs, "poll": 1}),
    )
    monkeypatch.setattr(
        Session,
        "wait_for_endpoint",
        lambda self, endpoint, **kwargs: wait_for_endpoint(self, endpoint, **{**kwargs, "poll": 1}),
    )


def test_pca_then_kmeans_segments_the_blobs(user_env, quick_sdk_waits, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    import sagemaker
    from sagemaker import PCA, KMeans

    sess = sagemaker.Session()
    bucket_name = sess.default_bucket()
    counties_scaled, blob = blobs()

    # PCA: num_components, record_set of the scaled table, fit.
    num_components = 5
    pca_SM = PCA(
        role=ROLE,  # sagemaker.get_execution_role() in a SageMaker notebook
        instance_count=1,
        instance_type=INSTANCE,
        output_path="s3://" + bucket_name + "/counties/",
        num_components=num_components,
    )
    train_data = counties_scaled.astype("float32")
    pca_SM.fit(pca_SM.record_set(train_data))

    # The PCA model's attributes: s (singular values) and v (the components as columns).
    pca_model_params = _model_algo(sess, pca_SM, tmp_path)
    s, v = pca_model_params["s"], pca_model_params["v"]
    assert s.shape == (num_components,)
    assert v.shape == (FEATURES, num_components)

    # Deploy, and project every row.
    pca_predictor = pca_SM.deploy(initial_instance_count=1, instance_type=INSTANCE)
    try:
        result = pca_predictor.predict(train_data)
    finally:
        sagemaker.Session().delete_endpoint(pca_predictor.endpoint_name)
    counties_transformed = np.array(
        [list(a.label["projection"].float32_tensor.values) for a in result]
    )
    assert counties_transformed.shape == (len(train_data), num_components)
    # The projection is (x - mean) @ v, in the model file's order of components.
    mean = pca_model_params["mean"].reshape(-1)
    assert counties_transformed == pytest.approx((train_data - mean) @ v, abs=1e-3)

    # k-means on the projected data: k, record_set, fit.
    train_data = counties_transformed.astype("float32")
    num_clusters = BLOBS
    kmeans = KMeans(
        role=ROLE,
        instance_count=1,
        instance_type=INSTANCE,
        output_path="s3://" + bucket_name + "/counties/",
        k=num_clusters,
    )
    kmeans.fit(kmeans.record_set(train_data))

    kmeans_predictor = kmeans.deploy(initial_instance_count=1, instance_type=INSTANCE)
    try:
        result = kmeans_predictor.predict(train_data)
    finally:
        sagemaker.Session().delete_endpoint(kmeans_predictor.endpoint_name)
    cluster_labels = np.array([r.label["closest_cluster"].float32_tensor.values[0] for r in result])
    distances = np.array([r.label["distance_to_cluster"].float32_tensor.values[0] for r in result])

    # Each blob is one cluster, and each cluster one blob.
    assert sorted(set(cluster_labels)) == list(range(num_clusters))
    for index in range(BLOBS):
        assert len(set(cluster_labels[blob == index])) == 1
    assert len({cluster_labels[blob == index][0] for index in range(BLOBS)}) == BLOBS

    # The centroids the notebook reads from model_algo-1: k rows of num_components, and each
    # record's distance_to_cluster is its distance to its centroid.
    kmeans_model_params = _model_algo(sess, kmeans, tmp_path)
    cluster_centroids = kmeans_model_params[0]
    assert cluster_centroids.shape == (num_clusters, num_components)
    expected = np.linalg.norm(train_data - cluster_centroids[cluster_labels.astype(int)], axis=1)
    assert distances == pytest.approx(expected, rel=1e-3, abs=1e-3)
