"""Inference bodies decoded to a float matrix, and predictions encoded for the ``Accept`` type.

Line-oriented types (``text/csv``, ``application/jsonlines``) map one non-blank input line to one
record and one record to one output line, in order; batch transform relies on that.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
from scipy import sparse

from algorithms.base import CONTENT_TYPES, DataError, UnsupportedContentType
from algorithms.recordio import RECORDIO, encode_outputs
from algorithms.recordio_matrix import decode_body
from algorithms.tabular import check_no_missing, parse_csv, parse_jsonlines, record_features

CSV = "text/csv"
JSONLINES = "application/jsonlines"
JSON = "application/json"
LIBSVM = "text/libsvm"
# NumPy's own formats, as the SageMaker SDK's NumpySerializer sends them (framework models only).
NPY = "application/x-npy"
NPZ = "application/x-npz"
# One record a line, one output line a record: bodies of these types can be joined and cut.
LINE_TYPES = (CSV, JSONLINES, LIBSVM)

# Other spellings of the same types, as SageMaker's documentation and its SDK's examples write
# them (``TrainingInput(s3, content_type="csv")``).
_ALIASES = {
    "csv": CSV,
    "libsvm": LIBSVM,
    "text/x-libsvm": LIBSVM,
    "application/x-jsonlines": JSONLINES,
    "application/jsonl": JSONLINES,
}


def split_content_type(value: str) -> tuple[str, dict[str, str]]:
    """``"text/csv; label_size=0"`` → ``("text/csv", {"label_size": "0"})``."""
    media_type, *params = (part.strip() for part in (value or "").split(";"))
    media_type = media_type.lower()
    parsed = {}
    for param in params:
        key, _, val = param.partition("=")
        parsed[key.strip().lower()] = val.strip().strip('"')
    return _ALIASES.get(media_type, media_type), parsed


def training_media_type(content_type: str, accepted: Iterable[str]) -> str:
    """The media type a channel's ``ContentType`` names (``"csv"`` → ``text/csv``,
    ``"text/csv;label_size=1"`` → ``text/csv``) when it is one of ``accepted`` (an algorithm's
    ``training_content_types``); otherwise :class:`UnsupportedContentType` listing them."""
    accepted = tuple(accepted)
    media_type, _ = split_content_type(content_type)
    if media_type not in {split_content_type(spelling)[0] for spelling in accepted}:
        raise UnsupportedContentType(content_type, accepted)
    return media_type


def decode(
    body: bytes,
    content_type: str,
    *,
    feature_count: int | None = None,
    allow_missing: bool = False,
) -> np.ndarray:
    """Decode a request body into an ``(records, features)`` float64 matrix.

    ``text/csv`` rows hold features only (no label). ``application/jsonlines`` lines are
    ``{"features": [...]}`` or a bare list. ``application/json`` is ``{"instances": [...]}``,
    ``{"features": [...]}`` (one record) or a list of lists.
    """
    media_type, _ = split_content_type(content_type)
    if media_type == CSV:
        return parse_csv(body, source=None, columns=feature_count, allow_missing=allow_missing)
    if media_type == JSONLINES:
        matrix, _ = parse_jsonlines(
            body, source=None, columns=feature_count, allow_missing=allow_missing
        )
        return matrix
    if media_type == JSON:
        return _decode_json(body, feature_count=feature_count, allow_missing=allow_missing)
    if media_type == RECORDIO:
        return decode_body(body, feature_count=feature_count)
    raise UnsupportedContentType(content_type, CONTENT_TYPES)


def decode_libsvm(body: bytes, *, feature_count: int) -> sparse.csr_matrix:
    """``text/libsvm`` records (``[label] index:value ...``, the label ignored) as a sparse
    ``(records, feature_count)`` matrix; indices are column numbers as written, and an absent
    entry is a missing value. Blank lines are not records."""
    indptr, indices, values = [0], [], []
    for number, line in enumerate(body.decode("utf-8", errors="replace").splitlines(), start=1):
        tokens = line.split()
        if not tokens:
            continue
        if ":" not in tokens[0]:
            tokens = tokens[1:]  # the label, as training files carry it
        for token in tokens:
            index, sep, value = token.partition(":")
            try:
                column, number_value = int(index), float(value)
            except ValueError:
                column, number_value = -1, 0.0
            if not sep or column < 0:
                raise DataError(f"expected index:value, got {token!r}", line=number)
            if column >= feature_count:
                raise DataError(
                    f"feature index {column} is beyond the model's {feature_count} features",
                    line=number,
                )
            indices.append(column)
            values.append(number_value)
        indptr.append(len(indices))
    return sparse.csr_matrix(
        (np.array(values, dtype=np.float64), np.array(indices, dtype=np.int64), indptr),
        shape=(len(indptr) - 1, feature_count),
    )


def decode_npy(body: bytes) -> np.ndarray:
    """An ``application/x-npy`` body (``numpy.save``'s format) as the array it holds. Object
    arrays are refused: loading them would unpickle whatever the request carries."""
    if not body.startswith(b"\x93NUMPY"):
        raise DataError("not a NumPy .npy array (no .npy header)")
    try:
        return np.load(io.BytesIO(body), allow_pickle=False)
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise DataError("an application/x-npy body must hold numbers, not objects") from None
        raise DataError(f"not a NumPy .npy array: {error}") from None
    except (OSError, EOFError) as error:
        raise DataError(f"not a NumPy .npy array: {error}") from None


def decode_npz(body: bytes) -> sparse.spmatrix:
    """An ``application/x-npz`` body (``scipy.sparse.save_npz``'s format) as a sparse matrix."""
    try:
        return sparse.load_npz(io.BytesIO(body))
    except (ValueError, OSError, EOFError, KeyError) as error:
        raise DataError(f"not a SciPy sparse .npz matrix: {error}") from None


def encode_npy(array: Any) -> bytes:
    """``numpy.save``'s bytes of ``array``: what the SDK's NumpyDeserializer reads."""
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()


def _decode_json(body: bytes, *, feature_count: int | None, allow_missing: bool) -> np.ndarray:
    try:
        document = orjson.loads(body) if body.strip() else []
    except orjson.JSONDecodeError as error:
        raise DataError(f"not valid JSON: {error.msg}", line=error.lineno) from None
    if isinstance(document, dict) and "instances" in document:
        instances = document["instances"]
    elif isinstance(document, dict) and "features" in document:
        instances = [document]
    elif isinstance(document, list) and document and not isinstance(document[0], list | dict):
        instances = [document]  # a flat list of numbers is one record
    else:
        instances = document
    if not isinstance(instances, list):
        raise DataError('expected {"instances": [...]}, {"features": [...]} or a list of lists')
    rows = []
    for number, instance in enumerate(instances, start=1):
        try:
            features = record_features(instance, source=None, line=None, label=False)
        except DataError as error:
            raise DataError(f"instance {number}: {error.message}") from None
        if feature_count is None:
            feature_count = len(features)
        if len(features) != feature_count:
            raise DataError(
                f"instance {number} has {len(features)} features; expected {feature_count}"
            )
        rows.append(features)
    try:
        matrix = np.array(rows, dtype=np.float64).reshape(len(rows), feature_count or 0)
    except (TypeError, ValueError):
        raise DataError("every feature must be a number") from None
    if not allow_missing:
        check_no_missing(matrix, source=None)
    return matrix


@dataclass(frozen=True)
class Predictions:
    """Named outputs per record, e.g. ``{"predicted_label": (n,), "score": (n,)}``.

    A value is an ``(n,)`` array (one number per record) or ``(n, k)`` (a list per record).
    ``csv`` names the outputs a CSV line carries, in order; JSON carries them all.
    """

    outputs: dict[str, np.ndarray]
    csv: tuple[str, ...]
    # The key of a JSON answer's list: SageMaker's PCA answers "projections", RCF "scores".
    json_key: str = "predictions"

    def __len__(self) -> int:
        return len(next(iter(self.outputs.values()))) if self.outputs else 0


def negotiate(
    accept: str | None, content_type: str, supported: Iterable[str] = CONTENT_TYPES
) -> str:
    """The response type for ``Accept``; none or ``*/*`` answers in the request's own type."""
    supported = tuple(supported)
    if not accept or not accept.strip():
        accept = "*/*"
    for candidate in accept.split(","):
        media_type, _ = split_content_type(candidate)
        if media_type in ("*/*", "application/*", "text/*"):
            request_type, _ = split_content_type(content_type)
            return request_type if request_type in supported else supported[0]
        if media_type in supported:
            return media_type
    raise UnsupportedContentType(accept, supported)


def encode(predictions: Predictions, accept: str) -> bytes:
    """Encode: one line per record for line types, ``{"predictions": [...]}`` for JSON (or the
    algorithm's own key)."""
    media_type, _ = split_content_type(accept)
    if media_type == CSV:
        return _encode_csv(predictions)
    if media_type == JSONLINES:
        return b"".join(orjson.dumps(record) + b"\n" for record in _records(predictions))
    if media_type == JSON:
        return orjson.dumps({predictions.json_key: list(_records(predictions))})
    if media_type == RECORDIO:
        return encode_outputs(predictions.outputs)
    raise UnsupportedContentType(accept, CONTENT_TYPES)


def _records(predictions: Predictions) -> Iterable[dict[str, Any]]:
    names = list(predictions.outputs)
    columns = [predictions.outputs[name].tolist() for name in names]
    return (dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True))


def _encode_csv(predictions: Predictions) -> bytes:
    if not len(predictions):
        return b""
    columns = [predictions.outputs[name] for name in predictions.csv]
    if len(columns) == 1 and columns[0].ndim == 1:  # the common case, kept fast
        return ("\n".join(map(str, columns[0].tolist())) + "\n").encode()
    lines = []
    for values in zip(*(column.tolist() for column in columns), strict=True):
        cells: list[str] = []
        for value in values:
            if isinstance(value, list):
                cells.extend(map(str, value))
            else:
                cells.append(str(value))
        lines.append(",".join(cells))
    return ("\n".join(lines) + "\n").encode()
