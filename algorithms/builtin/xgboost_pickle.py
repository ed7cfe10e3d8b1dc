"""``xgboost-model`` as SageMaker's XGBoost before 1.3-1 wrote it: the Booster, pickled.

Those images' notebooks read their model back with ``pickle.load`` (the abalone pipeline's
evaluation script does), so a job of such an image saves it the same way. Loading one goes through
an unpickler that admits nothing but a Booster: a model file cannot run code when it loads.
"""

from __future__ import annotations

import io
import pickle
import re
from typing import Any

import xgboost as xgb

from algorithms.base import AlgorithmError

# The first version of SageMaker's XGBoost that saves XGBoost's own format instead.
PICKLED_BEFORE = (1, 3)
_PROTO = b"\x80"  # the opcode that starts every pickle of protocol 2 and later


def pickles_model(image: str) -> bool:
    """Whether SageMaker's container of ``image`` pickled its model: a version tag before 1.3-1
    (``…/sagemaker-xgboost:1.0-1-cpu-py3``, ``:1.2-2``); not an image without one (``xgboost``)."""
    tag = image.strip().rsplit("/", 1)[-1].partition(":")[2]
    version = re.match(r"(\d+)\.(\d+)-", tag)
    return version is not None and (int(version[1]), int(version[2])) < PICKLED_BEFORE


def pickle_booster(booster: xgb.Booster) -> bytes:
    return pickle.dumps(booster, protocol=4)  # the protocol the 1.2 containers wrote


def is_pickle(data: bytes) -> bool:
    return data.startswith(_PROTO)


class _BoosterUnpickler(pickle.Unpickler):
    ADMITTED = frozenset(
        {
            ("xgboost.core", "Booster"),
            ("builtins", "bytearray"),
            ("builtins", "object"),
            ("copyreg", "_reconstructor"),
        }
    )

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ADMITTED:
            raise AlgorithmError(
                f"xgboost-model is a pickle naming {module}.{name}; only an XGBoost Booster loads"
            )
        return super().find_class(module, name)


def unpickle_booster(data: bytes) -> xgb.Booster:
    """The Booster pickled in ``data``; :class:`AlgorithmError` for any other pickle."""
    try:
        booster = _BoosterUnpickler(io.BytesIO(data)).load()
    except (pickle.UnpicklingError, EOFError, ValueError) as error:
        raise AlgorithmError(f"xgboost-model is not a pickled XGBoost Booster: {error}") from None
    if not isinstance(booster, xgb.Booster):
        kind = type(booster).__name__
        raise AlgorithmError(f"xgboost-model is a pickle of {kind}, not a Booster")
    return booster
