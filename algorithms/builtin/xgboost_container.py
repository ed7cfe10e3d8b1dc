"""What versions of SageMaker's XGBoost container did differently, picked by the image's tag.

- Before 1.3-1 it pickled the Booster into ``xgboost-model``, and those images' notebooks read it
  back with ``pickle.load`` (the abalone pipeline's evaluation script does), so a job of such an
  image saves it the same way. Loading one goes through an unpickler that admits nothing but a
  Booster: a model file cannot run code when it loads.
- Before 1.2-2 a real-time endpoint answered ``text/csv`` with every record's prediction on one
  line, joined by commas (batch transform always had one line per record), and those images'
  notebooks split the answer on commas (direct marketing's ``np.fromstring(..., sep=",")``).
"""

from __future__ import annotations

import io
import pickle
import re
from typing import Any

import xgboost as xgb

from algorithms.base import AlgorithmError

# The first versions of SageMaker's XGBoost that save XGBoost's own format, and that answer
# one line per record in real time.
PICKLED_BEFORE = (1, 3, 1)
CSV_ON_ONE_LINE_BEFORE = (1, 2, 2)
_PROTO = b"\x80"  # the opcode that starts every pickle of protocol 2 and later


def container_version(image: str) -> tuple[int, int, int] | None:
    """``(1, 0, 1)`` for ``…/sagemaker-xgboost:1.0-1-cpu-py3``; None for an image without a
    version tag (``xgboost``, ``xgboost:latest``), which behaves as the newest."""
    tag = image.strip().rsplit("/", 1)[-1].partition(":")[2]
    version = re.match(r"(\d+)\.(\d+)-(\d+)", tag)
    return None if version is None else (int(version[1]), int(version[2]), int(version[3]))


def pickles_model(image: str) -> bool:
    """Whether SageMaker's container of ``image`` pickled its model (before 1.3-1)."""
    version = container_version(image)
    return version is not None and version < PICKLED_BEFORE


def answers_csv_on_one_line(image: str) -> bool:
    """Whether a real-time endpoint of ``image`` joined CSV predictions by commas (before
    1.2-2)."""
    version = container_version(image)
    return version is not None and version < CSV_ON_ONE_LINE_BEFORE


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
