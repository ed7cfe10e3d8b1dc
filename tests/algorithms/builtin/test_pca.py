"""pca: projections onto the top components, in every content type."""

from __future__ import annotations

import numpy as np
import pytest

from algorithms import HyperparameterError

from ..conftest import channel, invoke_every_type, train, write_csv


@pytest.fixture
def low_rank(tmp_path):
    """200 points on a 2-D plane inside 5-D space, plus a little noise."""
    rng = np.random.default_rng(5)
    basis = rng.normal(size=(2, 5))
    features = rng.normal(size=(200, 2)) @ basis + 0.01 * rng.normal(size=(200, 5))
    write_csv(tmp_path / "train" / "x.csv.gz", features)
    return features, {"train": channel(tmp_path / "train")}


@pytest.mark.parametrize("mode", ["regular", "randomized"])
def test_two_components_explain_a_plane(tmp_path, low_rank, mode: str) -> None:
    features, channels = low_rank
    result, model, reporter = train(
        "pca",
        {"num_components": "2", "feature_dim": "5", "algorithm_mode": mode},
        channels,
        tmp_path / "model",
    )
    assert reporter.steps("train:explained_variance_ratio") == [1]
    assert result.final_metrics["train:explained_variance_ratio"] > 0.99
    outputs = invoke_every_type(model, features[:20])
    projections = np.array([r["projection"] for r in outputs["records"]])
    assert projections.shape == (20, 2)
    np.testing.assert_allclose(np.array(outputs["csv"], dtype=float), projections)


def test_without_mean_subtraction(tmp_path, low_rank) -> None:
    features, channels = low_rank
    _, model, _ = train(
        "pca",
        {"num_components": "2", "feature_dim": "5", "subtract_mean": "false"},
        channels,
        tmp_path / "model",
    )
    assert len(invoke_every_type(model, features[:3])["records"]) == 3


def test_more_components_than_features_is_refused(tmp_path, low_rank) -> None:
    _, channels = low_rank
    with pytest.raises(HyperparameterError, match="'num_components' must be at most 5"):
        train("pca", {"num_components": "6", "feature_dim": "5"}, channels, tmp_path / "model")
