"""knn: classifier and regressor over a sampled index, L2 and cosine; verbose answers."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from sagemaker.amazon.common import RecordDeserializer

from algorithms import HyperparameterError
from algorithms.recordio import RECORDIO
from infra.serving.batching import Call, invoke_batch

from ..conftest import channel, invoke_every_type, train, write_csv


def _channels(tmp_path, features, labels):
    write_csv(tmp_path / "train" / "t.csv", features[:300], labels[:300])
    write_csv(tmp_path / "test" / "t.csv", features[300:], labels[300:])
    return {"train": channel(tmp_path / "train"), "test": channel(tmp_path / "test")}


@pytest.mark.parametrize("metric", ["L2", "COSINE"])
def test_classifier(tmp_path, multiclass_problem, metric: str) -> None:
    features, labels = multiclass_problem
    result, model, reporter = train(
        "knn",
        {
            "k": "5",
            "predictor_type": "classifier",
            "sample_size": "250",
            "feature_dim": "3",
            "index_metric": metric,
        },
        _channels(tmp_path, features, labels),
        tmp_path / "model",
    )
    assert reporter.steps("test:accuracy") == [1]
    assert result.final_metrics["test:accuracy"] > 0.85
    records = invoke_every_type(model, features[300:])["records"]
    assert np.mean([r["predicted_label"] for r in records] == labels[300:]) > 0.85


def test_regressor(tmp_path, regression_problem) -> None:
    features, target = regression_problem
    result, model, _ = train(
        "knn",
        {"k": "5", "predictor_type": "regressor", "sample_size": "300", "feature_dim": "4"},
        _channels(tmp_path, features, target),
        tmp_path / "model",
    )
    assert result.final_metrics["test:mse"] < 0.5 * target.var()
    assert len(invoke_every_type(model, features[300:310])["records"]) == 10


def test_k_larger_than_the_sample_is_refused(tmp_path, regression_problem) -> None:
    features, target = regression_problem
    with pytest.raises(HyperparameterError, match="'k' must be at most the 10 sampled"):
        train(
            "knn",
            {"k": "20", "predictor_type": "regressor", "sample_size": "10", "feature_dim": "4"},
            _channels(tmp_path, features, target),
            tmp_path / "model",
        )


def test_verbose_accept_lists_each_answers_neighbours(tmp_path, multiclass_problem) -> None:
    features, labels = multiclass_problem
    write_csv(tmp_path / "train" / "t.csv", features[:300], labels[:300])
    _, model, _ = train(
        "knn",
        {"k": "3", "predictor_type": "classifier", "sample_size": "300", "feature_dim": "3"},
        {"train": channel(tmp_path / "train")},
        tmp_path / "model",
    )
    queries = features[300:306]
    body = "".join(",".join(map(repr, row)) + "\n" for row in queries.tolist()).encode()
    # SageMaker's k-NN inference formats page: accept "application/json; verbose=true".
    verbose = json.loads(model.invoke(body, "text/csv", "application/json; verbose=true"))
    distances = np.linalg.norm(queries[:, None, :] - features[None, :300, :], axis=2)
    nearest = np.argsort(distances, axis=1)[:, :3]
    for answer, row, near in zip(verbose["predictions"], distances, nearest, strict=True):
        assert list(answer) == ["predicted_label", "distances", "labels"]
        np.testing.assert_allclose(answer["distances"], row[near])  # smallest first
        assert answer["labels"] == labels[near].tolist()
        assert answer["predicted_label"] == np.bincount(labels[near].astype(int)).argmax()
    plain = json.loads(model.invoke(body, "text/csv", "application/json"))
    assert plain == {
        "predictions": [{"predicted_label": a["predicted_label"]} for a in verbose["predictions"]]
    }
    answer = model.invoke(body, "text/csv", f"{RECORDIO}; verbose=true")
    records = RecordDeserializer().deserialize(io.BytesIO(answer), RECORDIO)
    assert set(records[0].label) == {"predicted_label", "distances", "labels"}
    first = verbose["predictions"][0]
    np.testing.assert_allclose(
        records[0].label["distances"].float32_tensor.values, first["distances"], rtol=1e-6
    )
    assert list(records[0].label["labels"].float32_tensor.values) == first["labels"]


def test_an_endpoint_answers_verbose_and_plain_requests_each_their_own_way(
    tmp_path, multiclass_problem
) -> None:
    features, labels = multiclass_problem
    write_csv(tmp_path / "train" / "t.csv", features[:300], labels[:300])
    _, model, _ = train(
        "knn",
        {"k": "2", "predictor_type": "classifier", "sample_size": "300", "feature_dim": "3"},
        {"train": channel(tmp_path / "train")},
        tmp_path / "model",
    )
    body = b"0,0,0\n6,0,0\n"
    # The serving batcher joins JSON Lines requests that ask for the same answer, and only those.
    jsonlines = "application/jsonlines"
    verbose, plain = invoke_batch(
        model,
        [Call(body, "text/csv", f"{jsonlines}; verbose=true"), Call(body, "text/csv", jsonlines)],
    )
    assert verbose.content_type == plain.content_type == jsonlines
    assert [set(json.loads(line)) for line in verbose.body.splitlines()] == [
        {"predicted_label", "distances", "labels"}
    ] * 2
    assert [json.loads(line) for line in plain.body.splitlines()] == [
        {"predicted_label": 0.0},
        {"predicted_label": 1.0},
    ]
