"""Sagebrush's built-in algorithms: train from channels, load a model directory, invoke it.

``resolve_image(image)`` gives the algorithm class for a training image; ``load_model(model_dir)``
gives a ready :class:`Model` for any model directory a built-in algorithm wrote. Importing the
package is cheap: each algorithm's module (and its libraries) loads when an image first names it.
"""

from pathlib import Path

from algorithms.base import (
    CONTENT_TYPES,
    MODEL_MANIFEST,
    Algorithm,
    AlgorithmError,
    Channel,
    DataError,
    Hyperparameter,
    HyperparameterError,
    Model,
    Reporter,
    TrainingResult,
    UnsupportedContentType,
)
from algorithms.hyperparameters import parse_hyperparameters
from algorithms.manifest import ModelDirectoryError, read_manifest
from algorithms.registry import (
    UnknownAlgorithm,
    algorithm_names,
    container_model_algorithm,
    register,
    resolve_image,
)


def load_model(model_dir: str | Path, *, image: str = "") -> Model:
    """Load any built-in algorithm's model directory, found by its manifest (or, for a model
    made by a SageMaker container, by its model file and the model's ``image``)."""
    model_dir = Path(model_dir)
    try:
        manifest = read_manifest(model_dir)
    except ModelDirectoryError:
        name = container_model_algorithm(model_dir, image)
        if name is None:
            raise
        return resolve_image(name).load(model_dir)
    return resolve_image(manifest.algorithm).load(model_dir)


__all__ = [
    "CONTENT_TYPES",
    "MODEL_MANIFEST",
    "Algorithm",
    "AlgorithmError",
    "Channel",
    "DataError",
    "Hyperparameter",
    "HyperparameterError",
    "Model",
    "ModelDirectoryError",
    "Reporter",
    "TrainingResult",
    "UnknownAlgorithm",
    "UnsupportedContentType",
    "algorithm_names",
    "load_model",
    "parse_hyperparameters",
    "register",
    "resolve_image",
]
