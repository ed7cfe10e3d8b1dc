"""The first-party built-ins' test channels and the hyperparameters that change what they learn:
Linear Learner's ``test:*`` metrics and threshold criteria, RCF's ``test:f1``, k-means' local
Lloyd's reduction and ``eval_metrics``, k-NN's inner product and dimension reduction."""

from __future__ import annotations

import json

import numpy as np

from ..conftest import channel, train, write_csv


def test_linear_learner_scores_its_test_channel(tmp_path, binary_problem) -> None:
    features, labels = binary_problem
    write_csv(tmp_path / "train" / "x.csv", features[:300], labels[:300])
    write_csv(tmp_path / "test" / "x.csv", features[300:], labels[300:])
    result, _, reporter = train(
        "linear-learner",
        {
            "predictor_type": "binary_classifier",
            "epochs": "3",
            "f_beta": "0.5",
            "mini_batch_size": "50",
        },
        {"train": channel(tmp_path / "train"), "test": channel(tmp_path / "test")},
        tmp_path / "model",
    )
    for name in (
        "test:objective_loss",
        "test:binary_classification_accuracy",
        "test:binary_f_beta",
    ):
        assert name in reporter.names() and name in result.final_metrics
    assert result.final_metrics["test:binary_classification_accuracy"] > 0.9
    assert any("chosen by accuracy" in line for line in reporter.lines)


def test_recall_at_target_precision_moves_the_threshold(tmp_path) -> None:
    rng = np.random.default_rng(5)
    features = rng.normal(size=(600, 2))
    labels = (features[:, 0] + rng.normal(scale=1.0, size=600) > 0).astype(float)
    write_csv(tmp_path / "train" / "x.csv", features, labels)
    answers = {}
    for criterion in ("accuracy", "recall_at_target_precision"):
        _, model, _ = train(
            "linear-learner",
            {
                "predictor_type": "binary_classifier",
                "epochs": "3",
                "binary_classifier_model_selection_criteria": criterion,
                "target_precision": "0.95",
            },
            {"train": channel(tmp_path / "train")},
            tmp_path / criterion,
        )
        body = json.dumps({"instances": features.tolist()}).encode()
        predictions = json.loads(model.invoke(body, "application/json", "application/json"))
        predicted = np.array([p["predicted_label"] for p in predictions["predictions"]])
        answers[criterion] = predicted
    strict = answers["recall_at_target_precision"]
    assert np.mean(labels[strict == 1]) >= 0.9  # the precision it was asked for, near enough
    assert strict.sum() < answers["accuracy"].sum()


def test_random_cut_forest_reports_test_f1_on_a_labelled_test_channel(tmp_path) -> None:
    rng = np.random.default_rng(2)
    normal = rng.normal(size=(500, 3))
    anomalies = rng.normal(loc=8.0, size=(10, 3))
    test_features = np.vstack([normal[:100], anomalies])
    test_labels = np.r_[np.zeros(100), np.ones(10)]
    write_csv(tmp_path / "train" / "x.csv", normal)
    write_csv(tmp_path / "test" / "x.csv", test_features, test_labels)
    result, _, reporter = train(
        "randomcutforest",
        {"feature_dim": "3", "num_trees": "50", "eval_metrics": '["precision_recall_fscore"]'},
        {
            "train": channel(tmp_path / "train"),
            "test": channel(tmp_path / "test", "text/csv;label_size=1"),
        },
        tmp_path / "model",
    )
    assert {"test:f1", "test:precision", "test:recall"} <= reporter.names()
    assert "test:accuracy" not in reporter.names()  # not among the eval_metrics asked for
    assert result.final_metrics["test:f1"] > 0.8


def test_kmeans_reduces_extra_centres_by_local_lloyd(tmp_path, multiclass_problem) -> None:
    features, labels = multiclass_problem
    write_csv(tmp_path / "train" / "x.csv", features)
    _, model, reporter = train(
        "kmeans",
        {"k": "3", "feature_dim": "3", "extra_center_factor": "4", "epochs": "2"},
        {"train": channel(tmp_path / "train")},
        tmp_path / "model",
    )
    assert any("reduced 12 centres to 3" in line for line in reporter.lines)
    body = json.dumps({"instances": features.tolist()}).encode()
    answers = json.loads(model.invoke(body, "application/json", "application/json"))
    clusters = np.array([a["closest_cluster"] for a in answers["predictions"]])
    assert set(clusters) == {0, 1, 2}
    for cluster in range(3):  # each found cluster is one blob, but for a few stray points
        members = labels[clusters == cluster].astype(int)
        assert np.bincount(members).max() / len(members) > 0.95


def test_knn_inner_product_and_dimension_reduction(tmp_path) -> None:
    rng = np.random.default_rng(4)
    features = rng.normal(size=(300, 8))
    labels = (features[:, 0] > 0).astype(float)
    write_csv(tmp_path / "train" / "x.csv", features, labels)
    write_csv(tmp_path / "test" / "x.csv", features[:100], labels[:100])
    channels = {"train": channel(tmp_path / "train"), "test": channel(tmp_path / "test")}
    required = {"k": "5", "predictor_type": "classifier", "sample_size": "300", "feature_dim": "8"}
    result, _, _ = train(
        "knn", {**required, "index_metric": "INNER_PRODUCT"}, channels, tmp_path / "ip"
    )
    # The largest inner product with a query x is with records far along x: x's own class.
    assert result.final_metrics["test:accuracy"] > 0.9
    reduced, _, _ = train(
        "knn",
        {**required, "dimension_reduction_type": "sign", "dimension_reduction_target": "6"},
        channels,
        tmp_path / "sign",
    )
    assert reduced.final_metrics["test:accuracy"] > 0.7


def test_knn_verbose_answers_list_the_neighbours(tmp_path) -> None:
    rng = np.random.default_rng(6)
    features = rng.normal(size=(200, 4))
    labels = (features[:, 0] > 0).astype(float)
    write_csv(tmp_path / "train" / "x.csv", features, labels)
    required = {"k": "3", "predictor_type": "classifier", "sample_size": "200", "feature_dim": "4"}
    _, model, _ = train("knn", required, {"train": channel(tmp_path / "train")}, tmp_path / "m")
    body = json.dumps({"instances": features[:2].tolist()}).encode()
    verbose = json.loads(model.invoke(body, "application/json", "application/json; verbose=true"))
    first = verbose["predictions"][0]
    assert set(first) == {"predicted_label", "distances", "labels"}
    assert first["distances"][0] == 0.0 and first["labels"][0] == labels[0]  # itself, nearest
    assert first["distances"] == sorted(first["distances"]) and len(first["labels"]) == 3
    plain = json.loads(model.invoke(body, "application/json", "application/json"))
    assert set(plain["predictions"][0]) == {"predicted_label"}
    _, inner, _ = train(
        "knn",
        {**required, "index_metric": "INNER_PRODUCT"},
        {"train": channel(tmp_path / "train")},
        tmp_path / "ip",
    )
    answer = json.loads(inner.invoke(body, "application/json", "application/json; verbose=true"))
    products = features @ features[0]
    np.testing.assert_allclose(
        answer["predictions"][0]["distances"], np.sort(products)[::-1][:3], rtol=1e-9
    )


def test_linear_learner_keeps_the_best_of_num_models(tmp_path, binary_problem) -> None:
    features, labels = binary_problem
    write_csv(tmp_path / "train" / "x.csv", features[:300], labels[:300])
    write_csv(tmp_path / "validation" / "x.csv", features[300:], labels[300:])
    channels = {
        "train": channel(tmp_path / "train"),
        "validation": channel(tmp_path / "validation"),
    }
    result, _, reporter = train(
        "linear-learner",
        {"predictor_type": "binary_classifier", "epochs": "3", "num_models": "4"},
        channels,
        tmp_path / "model",
    )
    assert any(line.startswith("kept model ") and "of 4" in line for line in reporter.lines)
    assert sum(line.startswith("model 4 epoch 1:") for line in reporter.lines) == 1
    # The kept model's curve only: one value per epoch, as a single model reports it.
    assert reporter.steps("validation:binary_classification_accuracy") == [1, 2, 3]
    assert result.final_metrics["validation:binary_classification_accuracy"] > 0.9
