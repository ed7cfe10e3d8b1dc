"""knn: classifier and regressor over a sampled index, L2 and cosine."""

from __future__ import annotations

import numpy as np
import pytest

from algorithms import HyperparameterError

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
