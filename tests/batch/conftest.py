"""Fixtures for the engine tests: a trained LightGBM built-in and a two-worker Dask cluster."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

FEATURES = 5


class _QuietReporter:
    def metric(self, name: str, value: float, *, step: int | None = None) -> None:
        pass

    def log(self, message: str) -> None:
        pass

    def should_stop(self) -> bool:
        return False


@pytest.fixture(scope="session")
def lightgbm_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small LightGBM regression model trained by the built-in algorithm."""
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
        reporter=_QuietReporter(),
    )
    return root / "model"


@pytest.fixture(scope="session")
def lightgbm_model(lightgbm_model_dir: Path):
    """The same model loaded in the test process: the oracle the engine's outputs must match."""
    from algorithms import load_model

    return load_model(lightgbm_model_dir)


@pytest.fixture
def model_uri(store, bucket: str, lightgbm_model_dir: Path, tmp_path: Path) -> str:
    """The model as a training job leaves it: ``model.tar.gz`` in object storage."""
    from algorithms.artifacts import pack_model

    uri = f"s3://{bucket}/models/lightgbm/output/model.tar.gz"
    store.upload_file(str(pack_model(lightgbm_model_dir, tmp_path / "model.tar.gz")), uri)
    return uri


@pytest.fixture(scope="session")
def dask_client() -> Iterator:
    """Two single-threaded worker processes, as ``infra.dask`` starts them for a job."""
    from infra.dask import dask_client as start

    with start(n_workers=2) as client:
        client.wait_for_workers(2)
        yield client
