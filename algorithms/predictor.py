"""The :class:`Model` shape every built-in shares: decode a body, predict a matrix, encode.

An algorithm's model implements only ``predict(features) -> Predictions``.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

import numpy as np

from algorithms.base import CONTENT_TYPES, Model
from algorithms.codecs import Predictions, decode, encode, negotiate
from algorithms.recordio import RECORDIO

# What SageMaker's first-party algorithms (k-means, PCA, Linear Learner, ...) read and write: the
# common types and RecordIO-protobuf, the SDK's default for their predictors.
FIRST_PARTY_TYPES = (*CONTENT_TYPES, RECORDIO)


class MatrixModel(Model):
    """A model that predicts from a dense float matrix of ``feature_count`` columns."""

    # Whether empty cells (NaN) may reach ``predict``; tree models handle them, others do not.
    allows_missing: ClassVar[bool] = False

    def __init__(self, *, feature_count: int) -> None:
        self.feature_count = feature_count

    def invoke(self, body: bytes, content_type: str, accept: str) -> bytes:
        response_type = negotiate(accept, content_type, self.accepts)
        features = decode(
            body,
            content_type,
            feature_count=self.feature_count,
            allow_missing=self.allows_missing,
        )
        if len(features) == 0:
            return encode(Predictions(outputs={}, csv=()), response_type)
        return encode(self.predict(features), response_type)

    @abstractmethod
    def predict(self, features: np.ndarray) -> Predictions:
        """Outputs for each row of ``features``, in order."""
