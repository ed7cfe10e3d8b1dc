"""Training images resolve to algorithms; model directories load by their manifest."""

from __future__ import annotations

import pytest

import algorithms
from algorithms import ModelDirectoryError, UnknownAlgorithm, load_model, resolve_image
from algorithms.registry import image_name

BUILTINS = ("kmeans", "knn", "lightgbm", "linear-learner", "pca", "randomcutforest", "xgboost")


@pytest.mark.parametrize(
    ("image", "name"),
    [
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1", "xgboost"),
        ("382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1", "linear-learner"),
        ("localhost:5000/team/lightgbm@sha256:abcd", "lightgbm"),
        ("kmeans:latest", "kmeans"),
        ("PCA", "pca"),
        ("randomcutforest", "randomcutforest"),
    ],
)
def test_images_resolve_by_repository_name(image: str, name: str) -> None:
    assert image_name(image) == name
    assert resolve_image(image).name == name


def test_every_builtin_is_registered() -> None:
    assert set(BUILTINS) <= set(algorithms.algorithm_names())


def test_an_unknown_image_lists_the_known_names() -> None:
    with pytest.raises(UnknownAlgorithm, match="'acme/forecaster:2' names no built-in") as caught:
        resolve_image("acme/forecaster:2")
    assert "lightgbm" in str(caught.value) and "xgboost" in str(caught.value)


def test_loading_a_directory_without_a_manifest_says_so(tmp_path) -> None:
    with pytest.raises(ModelDirectoryError, match="not a model directory"):
        load_model(tmp_path)


def test_each_builtin_name_is_registered_by_the_module_the_registry_imports() -> None:
    from algorithms.registry import BUILTIN_MODULES

    for name, module in BUILTIN_MODULES.items():
        assert resolve_image(name).__module__ == module
