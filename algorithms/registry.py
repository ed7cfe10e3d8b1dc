"""Built-in algorithms by training-image name, and how an image URI resolves to one.

An algorithm module registers its class with ``@register("name")``; ``algorithms.builtin``
imports every such module, so the registry is complete once ``algorithms`` is imported.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from algorithms.base import Algorithm, AlgorithmError

A = TypeVar("A", bound=type[Algorithm])

_ALGORITHMS: dict[str, type[Algorithm]] = {}

# SageMaker's first-party images are named "sagemaker-<algorithm>" (sagemaker-xgboost).
_IMAGE_PREFIX = "sagemaker-"


class UnknownAlgorithm(AlgorithmError, LookupError):
    """A training image that names no registered algorithm."""

    def __init__(self, image: str, known: tuple[str, ...]) -> None:
        super().__init__(
            f"training image {image!r} names no built-in algorithm; known: {', '.join(known)}"
        )
        self.image = image


def register(name: str) -> Callable[[A], A]:
    """Class decorator: make ``cls`` the algorithm for training image ``name``."""

    def decorate(cls: A) -> A:
        if name in _ALGORITHMS and _ALGORITHMS[name] is not cls:
            raise ValueError(f"algorithm {name!r} is already registered by {_ALGORITHMS[name]}")
        cls.name = name
        _ALGORITHMS[name] = cls
        return cls

    return decorate


def image_name(image: str) -> str:
    """The algorithm name an image stands for.

    ``123456789012.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1`` → ``xgboost``;
    ``linear-learner``, ``kmeans:1`` and ``registry:5000/team/lightgbm@sha256:…`` work too.
    """
    repository = image.strip().rsplit("/", 1)[-1]
    repository = repository.split("@", 1)[0].split(":", 1)[0].lower()
    return repository.removeprefix(_IMAGE_PREFIX)


def resolve_image(image: str) -> type[Algorithm]:
    """The algorithm class for a training image (or a bare algorithm name)."""
    try:
        return _ALGORITHMS[image_name(image)]
    except KeyError:
        raise UnknownAlgorithm(image, algorithm_names()) from None


def algorithm_names() -> tuple[str, ...]:
    return tuple(sorted(_ALGORITHMS))
