"""The framework images whose code runs in the platform's own Python environment.

SageMaker's framework images (``sagemaker-scikit-learn:1.2-1-cpu-py3``,
``sagemaker-xgboost:1.7-1``, ``pytorch-training:2.1-cpu-py310``) run the user's script with that
framework installed; here each resolves, by its repository name as training images do
(:func:`algorithms.registry.image_name`), to the platform's environment, which holds
scikit-learn, XGBoost, PyTorch, pandas and NumPy. Processing jobs run any of them; script-mode
training runs the same names through
``algorithms.script``.
"""

from __future__ import annotations

from algorithms.base import AlgorithmError
from algorithms.registry import image_name

# Image name → the environment it runs in (one today: the platform's own).
SCRIPT_IMAGES: dict[str, str] = {
    "script": "platform",
    "sklearn": "platform",
    "scikit-learn": "platform",
    "xgboost": "platform",
    "pytorch": "platform",
    "pytorch-training": "platform",
    "pytorch-inference": "platform",
}


class UnknownImage(AlgorithmError, LookupError):
    """An image no environment of the platform stands for."""

    def __init__(self, image: str) -> None:
        super().__init__(
            f"image {image!r} names no framework the platform runs; known: "
            f"{', '.join(sorted(SCRIPT_IMAGES))} (or SageMaker's image URIs of them, such as "
            "…/sagemaker-scikit-learn:1.2-1-cpu-py3)"
        )
        self.image = image


def script_environment(image: str) -> str:
    """The environment that runs code for ``image``; raises :class:`UnknownImage`."""
    try:
        return SCRIPT_IMAGES[image_name(image)]
    except KeyError:
        raise UnknownImage(image) from None
