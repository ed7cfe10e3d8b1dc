"""Fixtures shared by the whole suite: real servers and a Dask cluster, started once per session,
and a small trained LightGBM model with the buckets that hold it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.datasets import labelled_csv
from tests.fakes import QuietReporter

FEATURES = 5  # what the suite's LightGBM model (``lightgbm_model_dir``) reads


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, *, timeout: float = 30.0) -> None:
    """Until a server answers at ``url``; raises TimeoutError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # the server answers, whatever it says
        except OSError as error:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing answered at {url} within {timeout:.0f} s") from error
            time.sleep(0.1)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[dict[str, str]]:
    """moto's standalone S3 server in its own process, spoken to over HTTP."""
    port = free_port()
    moto_server = Path(sys.executable).with_name("moto_server")
    process = subprocess.Popen(
        [str(moto_server), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(url + "/moto-api/")
        yield {
            "endpoint_url": url,
            "access_key": "testing-access-key",
            "secret_key": "testing-secret-key",
            "region": "us-east-1",
        }
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def scratch_dir(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture(autouse=True)
def _no_proxy_for_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def local_store(tmp_path: Path):
    """The local-directory backend over a fresh directory."""
    from infra.storage.local import LocalObjectStore

    return LocalObjectStore(tmp_path / "objects")


@pytest.fixture
def s3_store(s3_server: dict[str, str]):
    """The S3 backend talking HTTP to moto's server."""
    from infra.storage.s3 import S3ObjectStore

    return S3ObjectStore(**s3_server)


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest):
    """Each backend in turn: the contract tests run against both."""
    return request.getfixturevalue(f"{request.param}_store")


@pytest.fixture
def bucket(store) -> str:
    """A fresh, empty bucket in the store under test."""
    import uuid

    name = f"test-{uuid.uuid4().hex[:12]}"
    store.create_bucket(name)
    return name


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing(django_test_environment) -> None:
    """The suite's users are throwaway: their passwords are hashed cheaply, as Django advises for
    tests, instead of with PBKDF2's production rounds (about a second per user on two cores).
    The running stack's processes keep the real hasher."""
    from django.conf import settings
    from django.contrib.auth.hashers import get_hashers, get_hashers_by_algorithm

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    get_hashers.cache_clear()
    get_hashers_by_algorithm.cache_clear()


@pytest.fixture
def no_flow_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Jobs and resources are created without their flow runs starting: the test looks at what
    the request made, not at a run."""
    monkeypatch.setattr("infra.prefect.start_flow_run", lambda deployment, *, parameters: None)


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="ada", password="correct horse 9")


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user(username="grace", password="correct horse 9")


@pytest.fixture
def access_key(user):
    from console.accounts.services import access_key_create

    return access_key_create(user=user, description="tests")


def owned_bucket(owner, prefix: str = "data") -> str:
    """A new bucket in the platform's own store, owned by ``owner`` as if made through the S3
    API: a job reads and writes only its owner's buckets."""
    import uuid

    from console.buckets.services import bucket_create

    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    bucket_create(user=owner, name=name)
    return name


def claim_bucket(owner, name: str) -> str:
    """``name`` in the platform's store (made if absent), owned by ``owner``: for a bucket of a
    fixed name that tests of several users share."""
    from console.buckets.models import Bucket
    from infra.storage import get_store

    if name not in get_store().list_buckets():
        get_store().create_bucket(name)
    Bucket.objects.update_or_create(name=name, defaults={"owner": owner})
    return name


@pytest.fixture
def data_bucket(user) -> str:
    """``user``'s bucket in the platform's own store holding train/ (two objects) and
    validation/."""
    from infra.storage import get_store

    store = get_store()
    name = owned_bucket(user)
    store.write_bytes(f"s3://{name}/train/part-1.csv", labelled_csv(300, seed=1))
    store.write_bytes(f"s3://{name}/train/nested/part-2.csv", labelled_csv(200, seed=2))
    store.write_bytes(f"s3://{name}/validation/data.csv", labelled_csv(200, seed=3))
    return name


@pytest.fixture(scope="session")
def dask_client() -> Iterator:
    """Two single-threaded worker processes, as ``infra.dask`` starts them for a job."""
    from infra.dask import dask_client as start

    with start(n_workers=2) as client:
        client.wait_for_workers(2, timeout=60)
        yield client


@pytest.fixture(scope="session")
def lightgbm_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small LightGBM regression model on ``FEATURES`` features, trained by the built-in."""
    from algorithms import Channel, parse_hyperparameters, resolve_image

    root = tmp_path_factory.mktemp("lightgbm")
    rng = np.random.default_rng(7)
    features = rng.normal(size=(500, FEATURES))
    labels = features @ np.arange(1, FEATURES + 1) + rng.normal(size=500)
    (root / "train").mkdir()
    np.savetxt(root / "train" / "train.csv", np.column_stack([labels, features]), delimiter=",")
    algorithm = resolve_image("lightgbm")
    hyperparameters = parse_hyperparameters(
        algorithm, {"num_boost_round": "10", "num_threads": "1", "min_data_in_leaf": "5"}
    )
    algorithm().train(
        channels={"train": Channel("train", root / "train")},
        hyperparameters=hyperparameters,
        model_dir=root / "model",
        reporter=QuietReporter(),
    )
    return root / "model"


@pytest.fixture(scope="session")
def lightgbm_model(lightgbm_model_dir: Path):
    """The same model loaded in the test process: the oracle a transform's outputs must match."""
    from algorithms import load_model

    return load_model(lightgbm_model_dir)


@pytest.fixture(scope="session")
def model_tarball(lightgbm_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The model as a training job leaves it: ``model.tar.gz``."""
    from algorithms.artifacts import pack_model

    return pack_model(lightgbm_model_dir, tmp_path_factory.mktemp("tarball") / "model.tar.gz")


TRANSFORM_ROWS = [b"0.1,0.2,0.3,0.4,0.5", b"1,2,3,4,5", b"-1,0,1,0,-1"]


@pytest.fixture
def transform_bucket(user, model_tarball: Path) -> str:
    """A bucket in the platform's own store with ``TRANSFORM_ROWS`` in three CSV objects under
    ``in/``, and the model registered as ``lgbm``."""

    from console.registry.services import model_create
    from infra.storage import get_store

    name = owned_bucket(user)
    store = get_store()
    body = b"\n".join(TRANSFORM_ROWS) + b"\n"
    for key in ("in/a.csv", "in/b.csv", "in/sub/c.csv"):
        store.write_bytes(f"s3://{name}/{key}", body)
    uri = f"s3://{name}/models/lgbm/model.tar.gz"
    store.upload_file(str(model_tarball), uri)
    model_create(
        user=user,
        spec={"ModelName": "lgbm", "PrimaryContainer": {"Image": "lightgbm", "ModelDataUrl": uri}},
    )
    return name


# A user's scikit-learn training script, as script mode runs it.
SKLEARN_SCRIPT = """
import argparse, glob, os
import joblib
import numpy as np
from sklearn.linear_model import LogisticRegression

parser = argparse.ArgumentParser()
parser.add_argument("--regularization", type=float, default=1.0)
args = parser.parse_args()
files = glob.glob(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "**", "*.csv"), recursive=True)
data = np.concatenate([np.loadtxt(f, delimiter=",") for f in files])
model = LogisticRegression(C=args.regularization).fit(data[:, 1:], data[:, 0])
print(f"train_accuracy={model.score(data[:, 1:], data[:, 0]):.4f};")
joblib.dump(model, os.path.join(os.environ["SM_MODEL_DIR"], "model.joblib"))
with open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "report.txt"), "w") as report:
    report.write("coefficients: " + repr(model.coef_.tolist()))
"""


def sklearn_script_tarball(script: str = SKLEARN_SCRIPT) -> bytes:
    """``sourcedir.tar.gz`` holding ``train.py``: what ``sagemaker_submit_directory`` names."""
    import io
    import tarfile

    code = io.BytesIO()
    with tarfile.open(fileobj=code, mode="w:gz") as archive:
        info = tarfile.TarInfo("train.py")
        info.size = len(script.encode())
        archive.addfile(info, io.BytesIO(script.encode()))
    return code.getvalue()
