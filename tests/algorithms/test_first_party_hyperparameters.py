"""SageMaker's hyperparameter tables for its first-party algorithms, one row per entry: each name
is accepted with a valid value and refused, naming it and its rule, with an invalid one; and what
each SDK estimator class sends (``force_dense``, ``mini_batch_size``, JSON ``eval_metrics`` ...) is
accepted as it sends it."""

from __future__ import annotations

import boto3
import pytest
from sagemaker import KNN, PCA, FactorizationMachines, KMeans, LinearLearner, RandomCutForest
from sagemaker.session import Session

from algorithms import Channel, HyperparameterError, parse_hyperparameters, resolve_image
from tests.fakes import RecordingReporter

from .conftest import train, write_csv

REQUIRED = {
    "kmeans": {"k": "3", "feature_dim": "4"},
    "pca": {"num_components": "2", "feature_dim": "4"},
    "linear-learner": {"predictor_type": "binary_classifier"},
    "randomcutforest": {"feature_dim": "4"},
    "knn": {
        "k": "3",
        "predictor_type": "classifier",
        "sample_size": "100",
        "feature_dim": "4",
        "dimension_reduction_target": "2",  # needed once dimension_reduction_type is set
    },
    "factorization-machines": {
        "feature_dim": "4",
        "num_factors": "2",
        "predictor_type": "binary_classifier",
    },
}

# (image, name, a valid value, an invalid value or None, what the refusal says)
TABLE = [
    ("kmeans", "feature_dim", "4", "0", "at least 1"),
    ("kmeans", "k", "3", "1", "at least 2"),
    ("kmeans", "epochs", "2", "0", "at least 1"),
    ("kmeans", "eval_metrics", '["msd", "ssd"]', '["auc"]', "must list only msd, ssd"),
    ("kmeans", "extra_center_factor", "auto", "0", "at least 1"),
    ("kmeans", "half_life_time_size", "0", "-1", "at least 0"),
    ("kmeans", "init_method", "kmeans++", "forgy", "must be one of random, kmeans++"),
    ("kmeans", "local_lloyd_init_method", "random", "forgy", "must be one of"),
    ("kmeans", "local_lloyd_max_iter", "100", "0", "at least 1"),
    ("kmeans", "local_lloyd_num_trials", "auto", "0", "at least 1"),
    ("kmeans", "local_lloyd_tol", "0.01", "2", "between 0 and 1"),
    ("kmeans", "mini_batch_size", "100", "0", "at least 1"),
    ("pca", "feature_dim", "4", "0", "at least 1"),
    ("pca", "mini_batch_size", "100", "0", "at least 1"),
    ("pca", "num_components", "2", "0", "at least 1"),
    ("pca", "algorithm_mode", "randomized", "exact", "must be one of regular, randomized"),
    ("pca", "extra_components", "-1", "-2", "at least -1"),
    ("pca", "subtract_mean", "false", "maybe", "must be true or false"),
    ("randomcutforest", "feature_dim", "4", "10001", "between 1 and 10000"),
    ("randomcutforest", "eval_metrics", '["accuracy"]', '["f1"]', "must list only accuracy"),
    ("randomcutforest", "num_samples_per_tree", "256", "2049", "between 1 and 2048"),
    ("randomcutforest", "num_trees", "50", "49", "between 50 and 1000"),
    ("randomcutforest", "mini_batch_size", "100", "0", "at least 1"),
    ("knn", "feature_dim", "4", "0", "at least 1"),
    ("knn", "k", "3", "0", "between 1 and 1024"),
    ("knn", "predictor_type", "regressor", "ranker", "must be one of classifier, regressor"),
    ("knn", "sample_size", "100", "0", "at least 1"),
    ("knn", "dimension_reduction_target", "2", "4", "must be less than feature_dim"),
    ("knn", "dimension_reduction_type", "sign", "pca", "must be one of sign, fjlt"),
    ("knn", "faiss_index_ivf_nlists", "auto", "0", "at least 1"),
    ("knn", "faiss_index_pq_m", "8", "5", "must be one of 1, 2, 3, 4, 8"),
    ("knn", "index_metric", "INNER_PRODUCT", "L1", "must be one of L2, COSINE, INNER_PRODUCT"),
    ("knn", "index_type", "faiss.IVFFlat", "faiss.HNSW", "must be one of faiss.Flat"),
    ("knn", "mini_batch_size", "100", "0", "at least 1"),
    ("linear-learner", "num_classes", None, "2", "between 3 and 1000000"),
    ("linear-learner", "predictor_type", "regressor", "ranker", "must be one of binary_classifier"),
    ("linear-learner", "accuracy_top_k", "3", "0", "between 1 and 1000000"),
    ("linear-learner", "balance_multiclass_weights", "true", "maybe", "must be true or false"),
    ("linear-learner", "beta_1", "0.9", "1.5", "between 0 and"),
    ("linear-learner", "beta_2", "0.999", "-0.1", "between 0 and"),
    ("linear-learner", "bias_lr_mult", "auto", "0", "greater than 0"),
    ("linear-learner", "bias_wd_mult", "0", "-1", "at least 0"),
    (
        "linear-learner",
        "binary_classifier_model_selection_criteria",
        "precision_at_target_recall",
        "auc",
        "must be one of accuracy, f1, f_beta",
    ),
    ("linear-learner", "early_stopping_patience", "5", "0", "at least 1"),
    ("linear-learner", "early_stopping_tolerance", "0.01", "-1", "at least 0"),
    ("linear-learner", "epochs", "2", "0", "at least 1"),
    ("linear-learner", "f_beta", "0.5", "0", "greater than 0"),
    ("linear-learner", "feature_dim", "auto", "0", "at least 1"),
    ("linear-learner", "huber_delta", "0.5", "-1", "at least 0"),
    ("linear-learner", "init_bias", "0.5", "x", "must be a number"),
    ("linear-learner", "init_method", "normal", "zeros", "must be one of uniform, normal"),
    ("linear-learner", "init_scale", "0.1", "0", "greater than 0"),
    ("linear-learner", "init_sigma", "0.1", "0", "greater than 0"),
    ("linear-learner", "l1", "auto", "-1", "at least 0"),
    ("linear-learner", "learning_rate", "0.1", "0", "greater than 0"),
    ("linear-learner", "loss", "logistic", "cosine", "must be one of auto, logistic"),
    ("linear-learner", "loss_insensitivity", "0.1", "0", "greater than 0"),
    ("linear-learner", "lr_scheduler_factor", "0.9", "1", "greater than 0"),
    ("linear-learner", "lr_scheduler_minimum_lr", "0.00001", "0", "greater than 0"),
    ("linear-learner", "lr_scheduler_step", "100", "0", "at least 1"),
    ("linear-learner", "margin", "1.5", "-1", "at least 0"),
    ("linear-learner", "mini_batch_size", "100", "0", "at least 1"),
    ("linear-learner", "momentum", "0.5", "1", "between 0 and"),
    ("linear-learner", "normalize_data", "false", "maybe", "must be true or false"),
    ("linear-learner", "normalize_label", "auto", "maybe", "must be true or false"),
    ("linear-learner", "num_calibration_samples", "1000", "0", "at least 1"),
    ("linear-learner", "num_models", "8", "0", "at least 1"),
    ("linear-learner", "num_point_for_scaler", "1000", "0", "at least 1"),
    ("linear-learner", "optimizer", "adam", "lbfgs", "must be one of auto, sgd, adam, rmsprop"),
    ("linear-learner", "positive_example_weight_mult", "balanced", "0", "greater than 0, auto"),
    ("linear-learner", "quantile", "0.9", "1", "greater than 0"),
    ("linear-learner", "target_precision", "0.9", "0", "greater than 0"),
    ("linear-learner", "target_recall", "0.9", "1.5", "greater than 0"),
    ("linear-learner", "unbias_data", "true", "maybe", "must be true or false"),
    ("linear-learner", "unbias_label", "auto", "maybe", "must be true or false"),
    ("linear-learner", "use_bias", "false", "maybe", "must be true or false"),
    ("linear-learner", "use_lr_scheduler", "false", "maybe", "must be true or false"),
    ("linear-learner", "wd", "0.01", "-1", "at least 0"),
    ("factorization-machines", "rescale_grad", "1.0", "x", "must be a number"),
    ("factorization-machines", "bias_lr", "0.1", "-1", "at least 0"),
]


@pytest.mark.parametrize(("image", "name", "valid", "invalid", "rule"), TABLE)
def test_each_documented_hyperparameter_has_its_rule(image, name, valid, invalid, rule) -> None:
    algorithm = resolve_image(image)
    if valid is not None:
        parsed = parse_hyperparameters(algorithm, {**REQUIRED[image], name: valid})
        assert name in parsed
    if invalid is not None:
        with pytest.raises(HyperparameterError) as caught:
            parse_hyperparameters(algorithm, {**REQUIRED[image], name: invalid})
        assert caught.value.name == name
        assert rule in caught.value.rule


def test_linear_learner_has_every_entry_of_sagemakers_table() -> None:
    declared = {hp.name for hp in resolve_image("linear-learner").hyperparameters}
    documented = {name for image, name, *_ in TABLE if image == "linear-learner"}
    assert len(documented) == 44
    assert documented <= declared


def _session() -> Session:
    boto = boto3.Session(region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
    return Session(boto_session=boto, sagemaker_client=object(), default_bucket="bucket")


SDK_ESTIMATORS = [
    ("kmeans", KMeans, {"k": 3, "eval_metrics": ["msd", "ssd"], "center_factor": 2}),
    ("pca", PCA, {"num_components": 2, "algorithm_mode": "randomized", "subtract_mean": True}),
    (
        "linear-learner",
        LinearLearner,
        {
            "predictor_type": "binary_classifier",
            "num_models": 4,
            "optimizer": "adam",
            "binary_classifier_model_selection_criteria": "precision_at_target_recall",
            "target_recall": 0.9,
            "positive_example_weight_mult": "balanced",
            "use_bias": True,
            "normalize_label": False,
        },
    ),
    (
        "randomcutforest",
        RandomCutForest,
        {"num_trees": 50, "eval_metrics": ["accuracy", "precision_recall_fscore"]},
    ),
    (
        "knn",
        KNN,
        {
            "k": 3,
            "sample_size": 100,
            "predictor_type": "classifier",
            "index_type": "faiss.IVFFlat",
            "faiss_index_ivf_nlists": "auto",
        },
    ),
    (
        "factorization-machines",
        FactorizationMachines,
        {"num_factors": 2, "predictor_type": "binary_classifier", "epochs": 2},
    ),
]


@pytest.mark.parametrize(("image", "estimator_class", "arguments"), SDK_ESTIMATORS)
def test_what_each_sdk_estimator_sends_is_accepted(image, estimator_class, arguments) -> None:
    estimator = estimator_class(
        role="arn:aws:iam::000000000000:role/sagebrush",
        instance_count=1,
        instance_type="ml.m5.large",
        sagemaker_session=_session(),
        data_location="s3://bucket/record-sets/",
        **arguments,
    )
    estimator.feature_dim, estimator.mini_batch_size = 4, 10  # as fit(record_set) sets them
    sent = estimator.hyperparameters()
    parsed = parse_hyperparameters(resolve_image(image), sent)
    assert parsed["feature_dim"] == 4


def test_values_with_no_effect_are_logged_by_name(tmp_path, multiclass_problem) -> None:
    features, _ = multiclass_problem
    write_csv(tmp_path / "train" / "x.csv", features)
    reporter = RecordingReporter()
    train(
        "kmeans",
        {"k": "3", "feature_dim": "3", "half_life_time_size": "10", "force_dense": "True"},
        {"train": Channel("train", tmp_path / "train")},
        tmp_path / "model",
        reporter,
    )
    logged = "\n".join(reporter.lines)
    assert "no effect" in logged and "half_life_time_size=10" in logged
    assert "force_dense" not in logged  # its default: nothing to say
