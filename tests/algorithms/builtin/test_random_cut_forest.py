"""randomcutforest: outliers score higher than inliers."""

from __future__ import annotations

import numpy as np
import pytest

from algorithms import HyperparameterError

from ..conftest import channel, invoke_every_type, train, write_csv


def test_outliers_score_higher(tmp_path) -> None:
    rng = np.random.default_rng(1)
    inliers = rng.normal(size=(300, 2))
    write_csv(tmp_path / "train" / "x.csv", inliers)
    _, model, reporter = train(
        "randomcutforest",
        {"feature_dim": "2", "num_trees": "50"},
        {"train": channel(tmp_path / "train")},
        tmp_path / "model",
    )
    assert reporter.steps("train:mean_score") == [1]
    probe = np.array([[0.0, 0.1], [8.0, -8.0], [0.2, -0.1], [-9.0, 7.0]])
    scores = [r["score"] for r in invoke_every_type(model, probe)["records"]]
    assert min(scores[1], scores[3]) > max(scores[0], scores[2])


def test_num_trees_range(tmp_path) -> None:
    write_csv(tmp_path / "train" / "x.csv", np.ones((10, 2)))
    with pytest.raises(HyperparameterError, match=r"'num_trees' must be between 50 and 1000"):
        train(
            "randomcutforest",
            {"feature_dim": "2", "num_trees": "5"},
            {"train": channel(tmp_path / "train")},
            tmp_path / "model",
        )
