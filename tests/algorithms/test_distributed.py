"""Distributed boosting: shards read on two Dask workers, one model saved as one machine would."""

from __future__ import annotations

import gzip
import uuid
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from algorithms import DataError, load_model, parse_hyperparameters, resolve_image
from algorithms.distributed import supports_distributed, train_distributed
from algorithms.shards import ChannelShard
from tests.fakes import RecordingReporter

from .conftest import channel, invoke_every_type, train, write_csv


def _csv(features: np.ndarray, labels: np.ndarray) -> bytes:
    rows = np.column_stack([labels, features])
    return "".join(",".join(repr(float(v)) for v in row) + "\n" for row in rows).encode()


def _libsvm(features: np.ndarray, labels: np.ndarray) -> bytes:
    lines = []
    for row, label in zip(features, labels, strict=True):
        cells = " ".join(f"{i}:{v!r}" for i, v in enumerate(row.tolist()) if v != 0)
        lines.append(f"{label:g} {cells}\n")
    return "".join(lines).encode()


def _upload(store, prefix: str, pieces: list[bytes], *, name: str = "part") -> list[str]:
    bucket = f"test-{uuid.uuid4().hex[:12]}"
    store.create_bucket(bucket)
    uris = []
    for number, body in enumerate(pieces):
        uri = f"s3://{bucket}/{prefix}/{name}-{number}"
        store.write_bytes(uri, body)
        uris.append(uri)
    return uris


def _shards(
    store, features, labels, *, encode=_csv, content_type="text/csv", zipped=False
) -> list[dict[str, ChannelShard]]:
    """Rows 0-299 in four train objects sharded over two instances (ShardedByS3Key); rows
    300-399 as validation, split in two."""
    pieces = [encode(features[i : i + 75], labels[i : i + 75]) for i in range(0, 300, 75)]
    if zipped:
        pieces = [gzip.compress(piece) for piece in pieces]
    train_uris = _upload(store, "train", pieces)
    valid_uris = _upload(
        store,
        "validation",
        [encode(features[300:350], labels[300:350]), encode(features[350:], labels[350:])],
    )
    return [
        {
            "train": ChannelShard("train", tuple(train_uris[index::2]), content_type),
            "validation": ChannelShard("validation", (valid_uris[index],), content_type),
        }
        for index in range(2)
    ]


def _train(image, hyperparameters, shards, model_dir, client, store, reporter=None):
    algorithm = resolve_image(image)
    reporter = reporter or RecordingReporter()
    result = train_distributed(
        algorithm,
        shards=shards,
        hyperparameters=parse_hyperparameters(algorithm, hyperparameters),
        model_dir=model_dir,
        reporter=reporter,
        client=client,
        store=store,
    )
    return result, load_model(model_dir), reporter


def test_the_boosting_built_ins_train_distributed() -> None:
    """lightgbm and xgboost train a several-instance job across Dask workers; the other
    built-ins train it on one machine, every instance's data together."""
    assert supports_distributed(resolve_image("lightgbm"))
    assert supports_distributed(resolve_image("xgboost"))
    assert not supports_distributed(resolve_image("linear-learner"))


def test_lightgbm_trains_on_two_shards(tmp_path, dask_client, local_store, binary_problem) -> None:
    features, labels = binary_problem
    result, model, reporter = _train(
        "lightgbm",
        {"objective": "binary", "metric": "binary_logloss,auc", "num_boost_round": "20"},
        _shards(local_store, features, labels, zipped=True),
        tmp_path / "model",
        dask_client,
        local_store,
    )
    names = {"train:binary_logloss", "train:auc", "validation:binary_logloss", "validation:auc"}
    assert reporter.names() == names
    assert reporter.steps("validation:binary_logloss") == list(range(1, 21))
    assert set(result.final_metrics) == names
    assert not result.stopped_early
    outputs = invoke_every_type(model, features[300:])
    scores = np.array([record["score"] for record in outputs["records"]])
    assert roc_auc_score(labels[300:], scores) > 0.95
    assert np.mean((scores > 0.5) == labels[300:]) > 0.9
    # The reported validation logloss is the whole validation set's, not one worker's.
    logloss = -np.mean(labels[300:] * np.log(scores) + (1 - labels[300:]) * np.log(1 - scores))
    assert result.final_metrics["validation:binary_logloss"] == pytest.approx(logloss, rel=1e-6)


def test_lightgbm_binary_from_libsvm_on_s3(tmp_path, dask_client, s3_store, binary_problem) -> None:
    features, labels = binary_problem
    result, model, reporter = _train(
        "lightgbm",
        {"objective": "binary", "num_boost_round": "15", "metric": "binary_error,binary_logloss"},
        _shards(s3_store, features, labels, encode=_libsvm, content_type="text/libsvm"),
        tmp_path / "model",
        dask_client,
        s3_store,
    )
    assert reporter.names() == {
        "train:binary_error",
        "train:binary_logloss",
        "validation:binary_error",
        "validation:binary_logloss",
    }
    assert result.final_metrics["validation:binary_error"] < 0.1
    outputs = invoke_every_type(model, features[300:])
    probabilities = np.array([record["score"] for record in outputs["records"]])
    assert np.all((probabilities > 0) & (probabilities < 1))
    assert np.mean((probabilities > 0.5) == labels[300:]) > 0.9
    errors = np.mean((probabilities > 0.5) != labels[300:])
    assert result.final_metrics["validation:binary_error"] == pytest.approx(errors)


def test_one_shard_gives_the_single_machine_model(
    tmp_path, dask_client, local_store, regression_problem
) -> None:
    """The same hyperparameters reach LightGBM whichever path trains."""
    features, target = regression_problem
    hyperparameters = {"num_boost_round": "10", "max_depth": "3", "learning_rate": "0.3"}
    pieces = [_csv(features[i : i + 100], target[i : i + 100]) for i in range(0, 400, 100)]
    everything = {
        "train": ChannelShard("train", tuple(_upload(local_store, "t", pieces)), "text/csv")
    }
    result, _, _ = _train(
        "lightgbm",
        hyperparameters,
        [everything],
        tmp_path / "distributed",
        dask_client,
        local_store,
    )
    for number, uri in enumerate(everything["train"].uris):
        local_store.download_file(uri, str(tmp_path / "train" / f"{number}"))
    single, _, _ = train(
        "lightgbm",
        {**hyperparameters, "num_threads": "1"},
        {"train": channel(tmp_path / "train")},
        tmp_path / "single",
    )
    assert result.final_metrics == pytest.approx(single.final_metrics)
    distributed_trees = lgb.Booster(model_file=str(tmp_path / "distributed" / "model.txt"))
    single_trees = lgb.Booster(model_file=str(tmp_path / "single" / "model.txt"))
    np.testing.assert_allclose(
        distributed_trees.predict(features), single_trees.predict(features), rtol=1e-9
    )


def test_stop_request_ends_every_worker_at_the_same_iteration(
    tmp_path, dask_client, local_store, binary_problem
) -> None:
    features, labels = binary_problem
    result, _, reporter = _train(
        "lightgbm",
        {"objective": "binary", "num_boost_round": "50"},
        _shards(local_store, features, labels),
        tmp_path / "model",
        dask_client,
        local_store,
        RecordingReporter(stop_after_checks=4),
    )
    assert result.stopped_early
    assert reporter.steps("validation:binary_logloss") == [1, 2, 3, 4]
    assert lgb.Booster(model_file=str(tmp_path / "model" / "model.txt")).num_trees() == 4


def test_early_stopping_keeps_the_best_iteration(
    tmp_path, dask_client, local_store, binary_problem
) -> None:
    features, labels = binary_problem
    noisy = labels.copy()
    noisy[300:] = np.random.default_rng(0).integers(0, 2, size=100)  # nothing to learn there
    result, _, reporter = _train(
        "lightgbm",
        {"objective": "binary", "num_boost_round": "200", "early_stopping_rounds": "3"},
        _shards(local_store, features, noisy),
        tmp_path / "model",
        dask_client,
        local_store,
    )
    steps = reporter.steps("validation:binary_logloss")
    kept = lgb.Booster(model_file=str(tmp_path / "model" / "model.txt")).num_trees()
    assert len(steps) < 200
    assert kept == len(steps) - 3
    values = [value for name, value, _ in reporter.metrics if name == "validation:binary_logloss"]
    assert result.final_metrics["validation:binary_logloss"] == min(values)


def test_bad_row_names_the_object_and_line(
    tmp_path, dask_client, local_store, binary_problem
) -> None:
    features, labels = binary_problem
    shards = _shards(local_store, features, labels)
    bad = shards[1]["train"].uris[-1]
    lines = local_store.read_bytes(bad).decode().splitlines(keepends=True)
    lines[6] = "1,2,oops,4,5,6\n"
    local_store.write_bytes(bad, "".join(lines).encode())
    with pytest.raises(DataError) as caught:
        _train("lightgbm", {}, shards, tmp_path / "model", dask_client, local_store)
    assert caught.value.source == bad
    assert caught.value.line == 7
    assert bad in str(caught.value) and "line 7" in str(caught.value)
    assert not (tmp_path / "model").exists()


def test_shards_must_agree_on_the_feature_count(
    tmp_path, dask_client, local_store, binary_problem
) -> None:
    features, labels = binary_problem
    shards = _shards(local_store, features, labels)
    narrow = _upload(local_store, "narrow", [_csv(features[:50, :4], labels[:50])])
    shards[1] = {**shards[1], "train": ChannelShard("train", tuple(narrow), "text/csv")}
    # Validation is read against the same instance's train data, to the line...
    with pytest.raises(DataError, match="has 6 columns; expected 5") as caught:
        _train("lightgbm", {}, shards, tmp_path / "model", dask_client, local_store)
    assert caught.value.source == shards[1]["validation"].uris[0]
    assert caught.value.line == 1
    # ...and the instances' train data against each other.
    without_validation = [{"train": shard["train"]} for shard in shards]
    with pytest.raises(DataError, match="train data of instance 2 has 4 features"):
        _train("lightgbm", {}, without_validation, tmp_path / "model", dask_client, local_store)


def test_class_labels_are_checked_on_the_workers(
    tmp_path, dask_client, local_store, binary_problem
) -> None:
    features, labels = binary_problem
    wrong = labels.copy()
    wrong[100] = 2  # in the second train object, which instance 2 reads
    with pytest.raises(DataError, match="not a class index") as caught:
        _train(
            "lightgbm",
            {"objective": "binary"},
            _shards(local_store, features, wrong),
            tmp_path / "model",
            dask_client,
            local_store,
        )
    assert caught.value.source == "train shard of instance 2"


def test_written_channels_still_train_on_one_machine(tmp_path, binary_problem) -> None:
    """The refactored single-machine path keeps working beside the distributed one."""
    features, labels = binary_problem
    write_csv(tmp_path / "train" / "t.csv", features, labels)
    result, _, _ = train(
        "lightgbm",
        {"objective": "binary", "num_boost_round": "5", "num_threads": "1"},
        {"train": channel(tmp_path / "train")},
        tmp_path / "model",
    )
    assert "train:binary_logloss" in result.final_metrics


def test_model_directory_matches_the_single_machine_layout(
    tmp_path, dask_client, local_store, binary_problem
) -> None:
    features, labels = binary_problem
    _train(
        "lightgbm",
        {"objective": "binary", "num_boost_round": "3"},
        _shards(local_store, features, labels),
        tmp_path / "model",
        dask_client,
        local_store,
    )
    assert sorted(path.name for path in Path(tmp_path / "model").iterdir()) == [
        "model.txt",
        "sagebrush-model.json",
    ]


class _FailingReporter(RecordingReporter):
    def metric(self, name: str, value: float, *, step: int | None = None) -> None:
        if step == 3:
            raise OSError("the metrics store is gone")
        super().metric(name, value, step=step)


def test_a_failing_reporter_ends_every_worker(
    tmp_path, dask_client, local_store, binary_problem
) -> None:
    features, labels = binary_problem
    shards = _shards(local_store, features, labels)
    hyperparameters = {"objective": "binary", "num_boost_round": "30"}
    with pytest.raises(OSError, match="metrics store is gone"):
        _train(
            "lightgbm",
            hyperparameters,
            shards,
            tmp_path / "a",
            dask_client,
            local_store,
            _FailingReporter(),
        )
    # Both workers were released: the next job trains on them.
    result, _, _ = _train(
        "lightgbm", hyperparameters, shards, tmp_path / "b", dask_client, local_store
    )
    assert "validation:binary_logloss" in result.final_metrics
