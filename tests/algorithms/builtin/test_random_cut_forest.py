"""randomcutforest: RCF scores on SageMaker's scale, trees sampled from the whole channel, test
metrics by the three-sigma limit, and the forest kept in the model directory."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from algorithms import HyperparameterError, load_model
from algorithms.base import MODEL_MANIFEST

from ..conftest import channel, invoke_every_type, train, write_csv

SMALL = {"num_trees": "50", "num_samples_per_tree": "64"}


def _scores(model, features: np.ndarray) -> np.ndarray:
    body = json.dumps({"instances": features.tolist()}).encode()
    answer = json.loads(model.invoke(body, "application/json", "application/json"))
    return np.array([record["score"] for record in answer["scores"]])


def test_an_injected_anomaly_scores_several_times_a_normal_point(tmp_path) -> None:
    rng = np.random.default_rng(1)
    write_csv(tmp_path / "train" / "x.csv", rng.normal(size=(400, 3)))
    _, model, reporter = train(
        "randomcutforest",
        {"feature_dim": "3", **SMALL},
        {"train": channel(tmp_path / "train")},
        tmp_path / "model",
    )
    normal = rng.normal(size=(40, 3))
    anomaly = np.array([[6.0, -6.0, 6.0]])
    answers = invoke_every_type(model, np.vstack([normal, anomaly]))
    scores = np.array([record["score"] for record in answers["records"]])
    assert [float(line[0]) for line in answers["csv"]] == pytest.approx(scores)
    assert 0.5 < np.mean(scores[:-1]) < 1.5  # SageMaker's scale: a normal point scores about 1
    assert scores[-1] > 3 * np.mean(scores[:-1])
    assert 0.5 < reporter.series("train:mean_score")[0][1] < 1.5


def test_every_part_of_the_channel_is_sampled_not_only_its_latest_rows(tmp_path) -> None:
    # A streaming RCF with time decay (AWS's default) forgets the first half; SageMaker's trees
    # hold uniform samples of the whole data set, so both halves are normal.
    rng = np.random.default_rng(2)
    first, second = rng.normal(size=(1500, 2)), rng.normal(loc=10.0, size=(1500, 2))
    write_csv(tmp_path / "train" / "x.csv", np.vstack([first, second]))
    _, model, reporter = train(
        "randomcutforest",
        {"feature_dim": "2", **SMALL},
        {"train": channel(tmp_path / "train")},
        tmp_path / "model",
    )
    assert "each a reservoir sample of 64 of 3000 rows" in "\n".join(reporter.lines)
    scores = _scores(model, np.array([[0.0, 0.0], [10.0, 10.0], [5.0, 5.0]]))
    assert max(scores[:2]) < 1.5 < scores[2]


def test_labelled_test_channel_reports_metrics_by_the_three_sigma_limit(tmp_path) -> None:
    rng = np.random.default_rng(3)
    write_csv(tmp_path / "train" / "x.csv", rng.normal(size=(400, 3)))
    test_features = np.vstack([rng.normal(size=(190, 3)), rng.normal(loc=7.0, size=(5, 3))])
    test_labels = np.r_[np.zeros(190), np.ones(5)]
    write_csv(tmp_path / "test" / "x.csv", test_features, test_labels)
    result, model, reporter = train(
        "randomcutforest",
        {"feature_dim": "3", **SMALL},
        {
            "train": channel(tmp_path / "train"),
            "test": channel(tmp_path / "test", "text/csv;label_size=1"),
        },
        tmp_path / "model",
    )
    for name in ("test:accuracy", "test:precision", "test:recall", "test:f1"):
        assert reporter.steps(name) == [1]
    # Anomalous means above the test scores' mean + 3 standard deviations.
    scores = _scores(model, test_features)
    flagged = scores > scores.mean() + 3 * scores.std()
    hits = np.sum(flagged & (test_labels == 1))
    assert result.final_metrics["test:precision"] == pytest.approx(hits / flagged.sum())
    assert result.final_metrics["test:recall"] == pytest.approx(hits / 5)
    assert result.final_metrics["test:accuracy"] == pytest.approx(
        np.mean(flagged == (test_labels == 1))
    )
    assert result.final_metrics["test:f1"] > 0.8


def test_the_forest_is_saved_and_loaded_with_the_model(tmp_path) -> None:
    rng = np.random.default_rng(4)
    write_csv(tmp_path / "train" / "x.csv", rng.normal(size=(300, 4)))
    _, model, _ = train(
        "randomcutforest",
        {"feature_dim": "4", **SMALL},
        {"train": channel(tmp_path / "train")},
        tmp_path / "model",
    )
    shutil.copytree(tmp_path / "model", tmp_path / "elsewhere")
    probe = np.vstack([rng.normal(size=(20, 4)), [[9.0, 9.0, -9.0, 9.0]]])
    assert (
        _scores(load_model(tmp_path / "elsewhere"), probe).tolist()
        == _scores(model, probe).tolist()
    )
    manifest = json.loads((tmp_path / "elsewhere" / MODEL_MANIFEST).read_text())
    assert manifest["libraries"]["krcf"] != "unknown"


def test_num_trees_range(tmp_path) -> None:
    write_csv(tmp_path / "train" / "x.csv", np.ones((10, 2)))
    with pytest.raises(HyperparameterError, match=r"'num_trees' must be between 50 and 1000"):
        train(
            "randomcutforest",
            {"feature_dim": "2", "num_trees": "5"},
            {"train": channel(tmp_path / "train")},
            tmp_path / "model",
        )
