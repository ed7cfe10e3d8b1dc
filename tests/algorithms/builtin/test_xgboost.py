"""xgboost: SageMaker XGBoost's hyperparameters reach the XGBoost library; its logs, metric
names, model file and prediction shapes come out."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import xgboost as xgb
from sklearn.metrics import roc_auc_score

from algorithms import HyperparameterError, load_model, parse_hyperparameters, resolve_image
from algorithms.base import DataError
from tests.fakes import RecordingReporter

from ..conftest import channel, invoke_every_type, train, write_csv, write_jsonlines, write_libsvm

FAST = {"nthread": "1", "num_round": "25"}


def _channels(tmp_path, features, labels, *, writer=write_csv, content_type="text/csv"):
    writer(tmp_path / "train" / "t.gz", features[:300], labels[:300])
    writer(tmp_path / "validation" / "v", features[300:], labels[300:])
    return {
        "train": channel(tmp_path / "train", content_type),
        "validation": channel(tmp_path / "validation", content_type),
    }


def _booster(model_dir) -> xgb.Booster:
    """The saved model as a user opens it on their own machine."""
    booster = xgb.Booster()
    booster.load_model(str(model_dir / "xgboost-model"))
    return booster


def _objective(model_dir) -> str:
    return json.loads(_booster(model_dir).save_config())["learner"]["objective"]["name"]


def test_binary_logistic_logs_and_reports_as_the_container(tmp_path, binary_problem) -> None:
    features, labels = binary_problem
    result, model, reporter = train(
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
        {**FAST, "objective": "binary:logistic", "eval_metric": "auc,logloss", "eta": "0.2"},
        _channels(
            tmp_path, features, labels, writer=write_jsonlines, content_type="application/jsonlines"
        ),
        tmp_path / "model",
    )
    assert reporter.names() == {
        "train:auc",
        "train:logloss",
        "validation:auc",
        "validation:logloss",
    }
    assert reporter.steps("validation:logloss") == list(range(1, 26))
    first = next(line for line in reporter.lines if line.startswith("[0]"))
    assert first.split("#011")[0] == "[0]"
    assert [cell.split(":")[0] for cell in first.split("#011")[1:]] == [
        "train-auc",
        "train-logloss",
        "validation-auc",
        "validation-logloss",
    ]
    assert result.final_metrics["validation:auc"] > 0.9
    outputs = invoke_every_type(model, features[300:])
    probabilities = [record["score"] for record in outputs["records"]]
    assert all(0 < p < 1 for p in probabilities)
    assert roc_auc_score(labels[300:], probabilities) > 0.9
    # The file in model.tar.gz predicts what the endpoint answers.
    own = _booster(tmp_path / "model").predict(xgb.DMatrix(features[300:]))
    np.testing.assert_allclose(probabilities, own, rtol=1e-6)
    logloss = -np.mean(labels[300:] * np.log(own) + (1 - labels[300:]) * np.log(1 - own))
    assert result.final_metrics["validation:logloss"] == pytest.approx(logloss, rel=1e-4)


def test_legacy_reg_linear_and_silent_from_csv_alias(tmp_path, regression_problem) -> None:
    features, target = regression_problem
    result, model, reporter = train(
        "xgboost",
        {**FAST, "num_round": "60", "objective": "reg:linear", "silent": "1"},
        _channels(tmp_path, features, target, content_type="csv"),
        tmp_path / "model",
    )
    assert _objective(tmp_path / "model") == "reg:squarederror"
    assert {"train:rmse", "validation:rmse"} == reporter.names()
    assert result.final_metrics["validation:rmse"] < 0.5 * target.std()
    csv = invoke_every_type(model, features[300:])["csv"]
    assert all(len(row) == 1 for row in csv)


def test_softprob_and_softmax_shapes(tmp_path, multiclass_problem) -> None:
    features, labels = multiclass_problem
    channels = _channels(tmp_path, features, labels)
    _, softprob, reporter = train(
        "xgboost",
        {**FAST, "objective": "multi:softprob", "num_class": "3"},
        channels,
        tmp_path / "softprob",
    )
    assert "validation:mlogloss" in reporter.names()
    outputs = invoke_every_type(softprob, features[300:])
    rows = np.array([record["score"] for record in outputs["records"]])
    assert rows.shape == (60, 3) and np.allclose(rows.sum(axis=1), 1)
    assert all(len(row) == 3 for row in outputs["csv"])  # one CSV column per class
    _, softmax, _ = train(
        "xgboost",
        {**FAST, "objective": "multi:softmax", "num_class": "3", "eval_metric": "merror,accuracy"},
        channels,
        tmp_path / "softmax",
    )
    classes = [r["score"] for r in invoke_every_type(softmax, features[300:])["records"]]
    assert classes == rows.argmax(axis=1).astype(float).tolist()
    assert np.mean(np.array(classes) == labels[300:]) > 0.9


def test_container_metrics_and_the_tuning_objective(tmp_path, binary_problem) -> None:
    features, labels = binary_problem
    hyperparameters = {
        **FAST,
        "objective": "binary:logistic",
        "eval_metric": "accuracy,f1",
        "_tuning_objective_metric": "validation:auc",
    }
    result, model, reporter = train(
        "xgboost", hyperparameters, _channels(tmp_path, features, labels), tmp_path / "model"
    )
    assert {"validation:accuracy", "validation:f1", "validation:auc"} <= reporter.names()
    assert reporter.steps("validation:auc") == list(range(1, 26))
    scores = np.array([r["score"] for r in invoke_every_type(model, features[300:])["records"]])
    accuracy = np.mean((scores > 0.5) == labels[300:])
    assert result.final_metrics["validation:accuracy"] == pytest.approx(accuracy)


def test_early_stopping_saves_the_best_iteration(tmp_path, binary_problem) -> None:
    features, labels = binary_problem
    noisy = labels.copy()
    noisy[300:] = np.random.default_rng(0).integers(0, 2, size=100)  # nothing to learn there
    result, _, reporter = train(
        "xgboost",
        {
            **FAST,
            "num_round": "200",
            "objective": "binary:logistic",
            "eval_metric": "error,logloss",
            "early_stopping_rounds": "3",
        },
        _channels(tmp_path, features, noisy),
        tmp_path / "model",
    )
    steps = reporter.steps("validation:logloss")
    losses = dict(
        zip(steps, (v for n, v, _ in reporter.metrics if n == "validation:logloss"), strict=True)
    )
    best = min(losses, key=losses.get)
    assert len(steps) == best + 3 < 200
    assert _booster(tmp_path / "model").num_boosted_rounds() == best
    assert result.final_metrics["validation:logloss"] == losses[best]


def test_stop_request_keeps_the_trees_so_far(tmp_path, binary_problem) -> None:
    features, labels = binary_problem
    result, _, reporter = train(
        "xgboost",
        {**FAST, "objective": "binary:logistic"},
        _channels(tmp_path, features, labels),
        tmp_path / "model",
        RecordingReporter(stop_after_checks=2),
    )
    assert result.stopped_early
    assert _booster(tmp_path / "model").num_boosted_rounds() == 2
    assert reporter.steps("validation:logloss") == [1, 2]


@pytest.mark.parametrize("content_type", ["text/libsvm", "libsvm", "text/x-libsvm"])
def test_libsvm_training_and_inference(tmp_path, regression_problem, content_type) -> None:
    features, target = regression_problem
    channels = _channels(tmp_path, features, target, writer=write_libsvm, content_type=content_type)
    _, model, _ = train("xgboost", {**FAST, "num_round": "40"}, channels, tmp_path / "model")
    dense = model.invoke(
        "\n".join(",".join(map(repr, row.tolist())) for row in features[300:]).encode(),
        "text/csv",
        "text/csv",
    )
    body = (tmp_path / "validation" / "v").read_bytes()  # labels first, as the notebooks send
    answer = model.invoke(body, content_type, "text/csv")
    np.testing.assert_allclose(
        np.array(answer.split(), dtype=float), np.array(dense.split(), dtype=float), rtol=1e-6
    )
    with pytest.raises(DataError, match="feature index 9 is beyond the model's 4 features"):
        model.invoke(b"1 0:1.5 9:2", content_type, "text/csv")


def test_csv_weights_take_the_column_after_the_label(tmp_path, regression_problem) -> None:
    features, target = regression_problem
    weights = np.where(np.arange(400) % 2 == 0, 1.0, 0.0)
    shifted = target + np.where(weights == 0, 100.0, 0.0)  # rows of weight 0 teach nothing
    write_csv(tmp_path / "train" / "t", np.column_stack([weights, features]), shifted)
    _, model, _ = train(
        "xgboost",
        {**FAST, "num_round": "60", "csv_weights": "1"},
        {"train": channel(tmp_path / "train")},
        tmp_path / "model",
    )
    predictions = [r["score"] for r in invoke_every_type(model, features)["records"]]
    assert np.sqrt(np.mean((np.array(predictions) - target) ** 2)) < 0.5 * target.std()


@pytest.mark.parametrize("fmt", ["json", "ubj"])
def test_a_sagemaker_container_model_serves(tmp_path, binary_problem, fmt) -> None:
    """A model.tar.gz of SageMaker's XGBoost holds only xgboost-model, in either format."""
    features, labels = binary_problem
    booster = xgb.train(
        {"objective": "binary:logistic", "nthread": 1}, xgb.DMatrix(features, labels), 10
    )
    (tmp_path / "sagemaker").mkdir()
    (tmp_path / "sagemaker" / "xgboost-model").write_bytes(bytes(booster.save_raw(fmt)))
    model = load_model(tmp_path / "sagemaker")
    scores = [r["score"] for r in invoke_every_type(model, features)["records"]]
    np.testing.assert_allclose(scores, booster.predict(xgb.DMatrix(features)), rtol=1e-6)


# Each of SageMaker XGBoost's hyperparameters, a value other than its default, other
# hyperparameters it needs, and the parameters ``xgboost.train`` must be given to build the same
# model (None: it is no XGBoost parameter; the row checks it is accepted and trains).
DART = {"booster": "dart"}
TABLE = [
    ("alpha", "0.5", {}, {"alpha": 0.5}),
    ("base_score", "0.25", {}, {"base_score": 0.25}),
    ("booster", "gblinear", {}, {"booster": "gblinear"}),
    ("colsample_bylevel", "0.5", {}, {"colsample_bylevel": 0.5}),
    ("colsample_bynode", "0.5", {}, {"colsample_bynode": 0.5}),
    ("colsample_bytree", "0.5", {}, {"colsample_bytree": 0.5}),
    ("csv_weights", "1", {}, None),
    ("deterministic_histogram", "false", {}, None),
    ("early_stopping_rounds", "2", {}, None),
    ("eta", "0.05", {}, {"eta": 0.05}),
    ("eval_metric", "rmse,mae", {}, None),
    ("gamma", "5", {}, {"gamma": 5}),
    (
        "grow_policy",
        "lossguide",
        {"max_leaves": "3"},
        {"grow_policy": "lossguide", "max_leaves": 3},
    ),
    (
        "interaction_constraints",
        "[[0, 1], [2, 3]]",
        {},
        {"interaction_constraints": "[[0, 1], [2, 3]]"},
    ),
    ("lambda", "20", {}, {"lambda": 20}),
    ("lambda_bias", "0.1", {}, None),
    ("max_bin", "4", {}, {"max_bin": 4}),
    ("max_delta_step", "0.1", {}, {"max_delta_step": 0.1}),
    ("max_depth", "1", {}, {"max_depth": 1}),
    ("max_leaves", "3", {}, {"max_leaves": 3}),
    ("min_child_weight", "50", {}, {"min_child_weight": 50}),
    ("monotone_constraints", "(1,-1,0,0)", {}, {"monotone_constraints": "(1,-1,0,0)"}),
    (
        "normalize_type",
        "forest",
        {**DART, "rate_drop": "0.5"},
        {**DART, "rate_drop": 0.5, "normalize_type": "forest"},
    ),
    ("nthread", "1", {}, None),
    (
        "num_class",
        "3",
        {"objective": "multi:softprob"},
        {"objective": "multi:softprob", "num_class": 3},
    ),
    ("num_parallel_tree", "2", {"subsample": "0.5"}, {"num_parallel_tree": 2, "subsample": 0.5}),
    ("objective", "reg:pseudohubererror", {}, {"objective": "reg:pseudohubererror"}),
    ("one_drop", "1", DART, {**DART, "one_drop": 1}),
    ("process_type", "default", {}, {}),
    ("rate_drop", "0.9", DART, {**DART, "rate_drop": 0.9}),
    ("refresh_leaf", "0", {}, {}),
    (
        "sample_type",
        "weighted",
        {**DART, "rate_drop": "0.5"},
        {**DART, "rate_drop": 0.5, "sample_type": "weighted"},
    ),
    ("save_model_on_termination", "true", {}, None),
    (
        "scale_pos_weight",
        "3",
        {"objective": "binary:logistic"},
        {"objective": "binary:logistic", "scale_pos_weight": 3},
    ),
    ("seed", "42", {"subsample": "0.5"}, {"seed": 42, "subsample": 0.5}),
    ("silent", "1", {}, None),
    ("single_precision_histogram", "true", {}, None),
    ("sketch_eps", "0.1", {}, None),
    (
        "skip_drop",
        "0.2",
        {**DART, "rate_drop": "0.5"},
        {**DART, "rate_drop": 0.5, "skip_drop": 0.2},
    ),
    ("subsample", "0.5", {}, {"subsample": 0.5}),
    ("tree_method", "exact", {}, {"tree_method": "exact"}),
    ("tree_method", "gpu_hist", {}, {"tree_method": "hist"}),
    (
        "tweedie_variance_power",
        "1.2",
        {"objective": "reg:tweedie"},
        {"objective": "reg:tweedie", "tweedie_variance_power": 1.2},
    ),
    ("updater", "grow_colmaker,prune", {}, {"updater": "grow_colmaker,prune"}),
    ("use_dask_gpu_training", "true", {}, None),
    ("verbosity", "0", {}, None),
]


@pytest.mark.parametrize(
    ("name", "value", "others", "expected"), TABLE, ids=[f"{row[0]}={row[1]}" for row in TABLE]
)
def test_every_hyperparameter_reaches_xgboost(
    tmp_path, regression_problem, name, value, others, expected
) -> None:
    features, target = regression_problem
    objective = others.get("objective")
    if objective == "reg:tweedie":
        target = np.abs(target) + 0.1
    if objective == "multi:softprob":
        target = (features[:, 0] > 0).astype(float) + (features[:, 1] > 0)
    if objective == "binary:logistic":
        target = (target > 0).astype(float)
    data = np.column_stack([np.ones(400), features]) if name == "csv_weights" else features
    hyperparameters = {"nthread": "1", "num_round": "4", **others, name: value}
    _, model, reporter = train(
        "xgboost", hyperparameters, _channels(tmp_path, data, target), tmp_path / "model"
    )
    assert reporter.steps(sorted(reporter.names())[0])[0] == 1
    ours = _booster(tmp_path / "model").predict(xgb.DMatrix(features[300:]))
    if expected is None:
        assert np.all(np.isfinite(ours))
        return
    reference = xgb.train(
        {"nthread": 1, **expected}, xgb.DMatrix(features[:300], label=target[:300]), 4
    ).predict(xgb.DMatrix(features[300:]))
    np.testing.assert_allclose(ours, reference, rtol=1e-6)
    # The parameter changed the model (gpu_hist is hist here, XGBoost's own choice already).
    if (
        name not in ("num_class", "objective", "process_type", "refresh_leaf")
        and value != "gpu_hist"
    ):
        default = xgb.train(
            {"nthread": 1, **({"objective": objective} if objective else {})},
            xgb.DMatrix(features[:300], label=target[:300]),
            4,
        ).predict(xgb.DMatrix(features[300:]))
        assert not np.allclose(ours, default)
    scores = np.array([r["score"] for r in invoke_every_type(model, features[300:])["records"]])
    np.testing.assert_allclose(scores, ours, rtol=1e-6)


def test_the_table_names_every_hyperparameter() -> None:
    declared = {hp.name for hp in resolve_image("xgboost").hyperparameters}
    assert declared == {row[0] for row in TABLE} | {"num_round"}


REFUSED = [
    ({"eta": "3"}, r"hyperparameter 'eta' must be between 0 and 1 \(got '3'\)"),
    ({"objective": "binary:logitrawish"}, "'objective' must be one of"),
    ({"num_class": "3"}, "'num_class' applies only to multi:softprob"),
    ({"objective": "multi:softmax"}, "'num_class' is required for objective multi:softmax"),
    ({"num_round": "2.5"}, "'num_round' must be an integer"),
    ({"subsample": "0"}, "'subsample' must be greater than 0"),
    ({"booster": "gbforest"}, "'booster' must be one of gbtree, gblinear, dart"),
    ({"tweedie_variance_power": "2"}, "'tweedie_variance_power' must be greater than 1 and less"),
    ({"tweedie_variance_power": "1"}, "'tweedie_variance_power' must be greater than 1"),
    ({"rate_drop": "1.5"}, "'rate_drop' must be between 0 and 1"),
    ({"skip_drop": "-0.1"}, "'skip_drop' must be between 0 and 1"),
    ({"one_drop": "2"}, "'one_drop' must be between 0 and 1"),
    ({"sample_type": "random"}, "'sample_type' must be one of uniform, weighted"),
    ({"normalize_type": "bush"}, "'normalize_type' must be one of tree, forest"),
    ({"csv_weights": "2"}, "'csv_weights' must be between 0 and 1"),
    ({"grow_policy": "wide"}, "'grow_policy' must be one of depthwise, lossguide"),
    ({"tree_method": "fast"}, "'tree_method' must be one of auto, exact"),
    ({"max_depth": "-1"}, "'max_depth' must be at least 0"),
    ({"scale_pos_weight": "0"}, "'scale_pos_weight' must be greater than 0"),
    ({"eval_metric": "auc,accuracyish"}, "'eval_metric' must list only rmse.*'accuracyish'"),
    ({"updater": "grow_forest"}, "'updater' must list only grow_colmaker"),
    ({"monotone_constraints": "up"}, "'monotone_constraints' must be a list such as"),
    ({"verbosity": "4"}, "'verbosity' must be between 0 and 3"),
    ({"deterministic_histogram": "maybe"}, "'deterministic_histogram' must be one of true, false"),
    ({"num_round": "0"}, "'num_round' must be at least 1"),
    ({"colsample_bynode": "1.1"}, "'colsample_bynode' must be greater than 0 and at most 1"),
    ({"max_leaves": "-2"}, "'max_leaves' must be at least 0"),
    ({"num_parallel_tree": "0"}, "'num_parallel_tree' must be at least 1"),
    ({"gamma": "-1"}, "'gamma' must be at least 0"),
    ({"learning_rate": "0.1"}, "'learning_rate' is not a hyperparameter of xgboost"),
]


@pytest.mark.parametrize(("values", "message"), REFUSED, ids=[str(row[0]) for row in REFUSED])
def test_bad_hyperparameters_are_refused(values, message) -> None:
    with pytest.raises(HyperparameterError, match=message):
        parse_hyperparameters(resolve_image("xgboost"), {"num_round": "5", **values})


def test_num_round_is_required() -> None:
    with pytest.raises(HyperparameterError, match="'num_round' is required by xgboost"):
        parse_hyperparameters(resolve_image("xgboost"), {"nthread": "1"})


def test_labels_outside_the_objective_name_the_record(tmp_path, binary_problem) -> None:
    features, labels = binary_problem
    labels = labels.copy()
    labels[7] = 2
    with pytest.raises(DataError, match=r"label 2 in record 8 is not between 0 and 1 \(in train"):
        train(
            "xgboost",
            {**FAST, "objective": "binary:logistic"},
            _channels(tmp_path, features, labels),
            tmp_path / "model",
        )


def test_model_directory_copies_serve_alike(tmp_path, regression_problem) -> None:
    """Only xgboost-model matters: the platform's directory and the file alone answer alike."""
    features, target = regression_problem
    _, model, _ = train("xgboost", FAST, _channels(tmp_path, features, target), tmp_path / "model")
    (tmp_path / "bare").mkdir()
    shutil.copy(tmp_path / "model" / "xgboost-model", tmp_path / "bare" / "xgboost-model")
    body = "\n".join(",".join(map(repr, row.tolist())) for row in features).encode()
    assert load_model(tmp_path / "bare").invoke(body, "text/csv", "text/csv") == model.invoke(
        body, "text/csv", "text/csv"
    )


@pytest.mark.parametrize(
    "version", ["0.90-2", "1.0-1", "1.2-2", "1.3-1", "1.5-1", "1.7-1", "3.0-5"]
)
def test_every_sdk_image_version_is_this_builtin(version) -> None:
    from sagemaker import image_uris

    image = image_uris.retrieve("xgboost", "us-east-1", version)
    assert resolve_image(image) is resolve_image("xgboost")
    assert resolve_image(image).__module__ == "algorithms.builtin.xgboost"
