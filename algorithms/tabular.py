"""Strict, fast parsing of numeric CSV and JSON Lines into float matrices.

The happy path is vectorised (pandas' C parser, orjson; large CSV bodies are parsed in pieces on
several threads, as the C parser runs without the GIL); only when it fails or leaves gaps does a
line-by-line scan run, to say exactly which line and column is wrong. A small body of plain
numbers (a real-time request of a few records) skips pandas, whose set-up costs more than the
parse itself.
"""

from __future__ import annotations

import io
import itertools
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

from algorithms.base import DataError
from algorithms.text_lines import data_lines, open_data

# Cells that mean "no value". Kept explicit (pandas' defaults also include "None", "#N/A", ...)
# so that the fast path and the diagnostic scan agree on what a missing value is.
MISSING = ("", "NA", "N/A", "NaN", "nan", "null")
_MISSING_SET = frozenset(MISSING)
# Bodies at least twice this size are parsed in pieces of at least this size, one per core.
PIECE_BYTES = 8 << 20
# Bodies up to this size are first tried as plain decimal numbers in Python (``_parse_small``).
SMALL_BYTES = 4096
_PLAIN_NUMBER = re.compile(rb"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def parse_csv(
    data: bytes | Path,
    *,
    source: str | None,
    columns: int | None = None,
    label_columns: int = 0,
    allow_missing: bool = False,
) -> np.ndarray:
    """Parse headerless numeric CSV into a float64 matrix; blank lines are not records.

    ``data`` is the CSV itself or a file holding it, which is read in place, never whole into
    memory while every cell is a number; a missing cell (NaN) or a width surprise has the whole
    data scanned line by line, to tell a missing cell from a short record or to name the bad
    line. ``columns`` is the width every record must have (else the first record sets it).
    Missing cells become NaN where ``allow_missing``; label columns may never be missing. The
    matrix is column-major, as pandas builds it: slicing off the label columns leaves a
    contiguous feature block.
    """

    if isinstance(data, bytes) and len(data) <= SMALL_BYTES:
        small = _parse_small(data, columns)
        if small is not None:
            return small

    def scan() -> None:
        _scan_csv(
            data,
            source=source,
            columns=columns,
            label_columns=label_columns,
            allow_missing=allow_missing,
        )

    try:
        spans = _spans(data)
        if len(spans) > 1:
            with ThreadPoolExecutor(len(spans), thread_name_prefix="parse-csv") as pool:
                matrices = list(pool.map(lambda span: _read_csv(data, span), spans))
        else:
            matrices = [_read_csv(data, spans[0])]
    except ValueError as error:  # pandas' ParserError is a ValueError too
        scan()
        raise DataError(f"cannot parse CSV: {error}", source=source) from None
    matrices = [matrix for matrix in matrices if matrix is not None]
    if not matrices:
        return np.empty((0, columns or 0))
    widths = {matrix.shape[1] for matrix in matrices}
    # pandas pads short rows with NaN, so any NaN (or a width surprise) needs a closer look.
    if (
        len(widths) > 1
        or (columns is not None and widths != {columns})
        or any(np.isnan(m).any() for m in matrices)
    ):
        scan()
    return _stack(matrices)


def _parse_small(data: bytes, columns: int | None) -> np.ndarray | None:
    """Records of plain decimal numbers, all ``columns`` wide (or as wide as the first), as the
    general path reads them (Python's ``float`` and pandas' converter both round correctly);
    None for anything else (a missing cell, another spelling, ragged records, no record), which
    the general path then reads or explains."""
    rows = []
    for line in data.splitlines():
        if not line:
            continue
        cells = line.split(b",")
        if not all(_PLAIN_NUMBER.fullmatch(cell) for cell in cells):
            return None
        rows.append([float(cell) for cell in cells])
    width = columns if columns is not None else len(rows[0]) if rows else 0
    if not rows or any(len(row) != width for row in rows):
        return None
    return np.asfortranarray(rows, dtype=np.float64)  # column-major, as pandas builds it


def _spans(data: bytes | Path) -> list[tuple[int, int]]:
    """Byte ranges of whole lines, one per core for large data (at least ``PIECE_BYTES`` each)."""
    with open_data(data) as stream:
        size = stream.seek(0, io.SEEK_END)
        count = max(1, min(os.cpu_count() or 1, size // PIECE_BYTES))
        cuts = [0]
        for index in range(1, count):
            stream.seek(max(cuts[-1], index * size // count))
            stream.readline()
            if stream.tell() >= size:
                break
            cuts.append(stream.tell())
    cuts.append(size)
    return [(start, end) for start, end in itertools.pairwise(cuts) if start < end] or [(0, 0)]


class _Span(io.RawIOBase):
    """Bytes ``start`` to ``end`` of ``data``, read through a stream of its own."""

    def __init__(self, data: bytes | Path, start: int, end: int) -> None:
        self._stream = open_data(data)
        self._stream.seek(start)
        self._left = end - start

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self._stream.readinto(memoryview(buffer)[: self._left])
        self._left -= count
        return count

    def close(self) -> None:
        self._stream.close()
        super().close()


def _read_csv(data: bytes | Path, span: tuple[int, int]) -> np.ndarray | None:
    """One span through pandas' C parser; None when it holds no records."""
    whole = not isinstance(data, Path) and span == (0, len(data))
    with io.BytesIO(data) if whole else _Span(data, *span) as piece:  # a body: as it is
        try:
            frame = pd.read_csv(
                piece,
                header=None,
                dtype=np.float64,
                engine="c",
                na_values=list(MISSING),
                keep_default_na=False,
                skip_blank_lines=True,
            )
        except pd.errors.EmptyDataError:
            return None
    return frame.to_numpy(dtype=np.float64, copy=False)


def _stack(matrices: list[np.ndarray]) -> np.ndarray:
    """One column-major matrix of the pieces' rows, in order."""
    if len(matrices) == 1:
        return matrices[0]
    stacked = np.empty((sum(len(m) for m in matrices), matrices[0].shape[1]), order="F")
    row = 0
    for matrix in matrices:
        stacked[row : row + len(matrix)] = matrix
        row += len(matrix)
    return stacked


def _scan_csv(
    data: bytes | Path,
    *,
    source: str | None,
    columns: int | None,
    label_columns: int,
    allow_missing: bool,
) -> None:
    """Raise a :class:`DataError` for the first bad line; return if every line is good."""
    expected = columns
    for number, line in data_lines(data, source=source):
        cells = line.split(",")
        if expected is None:
            expected = len(cells)
        if len(cells) != expected:
            raise DataError(
                f"record has {len(cells)} columns; expected {expected}",
                source=source,
                line=number,
            )
        for index, cell in enumerate(cells):
            value = cell.strip().strip('"').strip()
            if value in _MISSING_SET:
                if index < label_columns:
                    raise DataError(
                        "label is missing", source=source, line=number, column=index + 1
                    )
                if not allow_missing:
                    raise DataError(
                        "value is missing", source=source, line=number, column=index + 1
                    )
                continue
            try:
                float(value)
            except ValueError:
                hint = " (CSV data has no header row)" if number == 1 else ""
                raise DataError(
                    f"not a number: {cell.strip()!r}{hint}",
                    source=source,
                    line=number,
                    column=index + 1,
                ) from None


def parse_jsonlines(
    data: bytes | Path,
    *,
    source: str | None,
    columns: int | None = None,
    label: bool = False,
    allow_missing: bool = False,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Parse JSON Lines of ``{"features": [...], "label": y}`` (or a bare ``[...]`` without label).

    ``data`` is the text itself or a file holding it, read a line at a time. Returns the feature
    matrix and, where ``label``, the labels.
    """
    rows: list[Any] = []
    labels: list[Any] = []
    line_numbers: list[int] = []
    for number, line in data_lines(data, source=source):
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as error:
            raise DataError(f"not valid JSON: {error}", source=source, line=number) from None
        features = record_features(record, source=source, line=number, label=label)
        if columns is None:
            columns = len(features)
        if len(features) != columns:
            raise DataError(
                f"record has {len(features)} features; expected {columns}",
                source=source,
                line=number,
            )
        rows.append(features)
        if label:
            labels.append(record["label"])
        line_numbers.append(number)
    matrix = _to_matrix(rows, columns or 0, source=source, line_numbers=line_numbers)
    if not allow_missing:
        check_no_missing(matrix, source=source, line_numbers=line_numbers)
    if not label:
        return matrix, None
    label_array = _to_matrix(
        [[value] for value in labels], 1, source=source, line_numbers=line_numbers, what="label"
    )[:, 0]
    if np.isnan(label_array).any():
        row = int(np.flatnonzero(np.isnan(label_array))[0])
        raise DataError("label is missing", source=source, line=line_numbers[row])
    return matrix, label_array


def record_features(record: Any, *, source: str | None, line: int | None, label: bool) -> list:
    """The feature list of one JSON record: ``{"features": [...]}`` or, unlabelled, ``[...]``;
    also SageMaker's tensor form ``{"data": {"features": {"values": [...]}}}``, sparse with
    ``"keys"`` and ``"shape"``."""
    if isinstance(record, dict) and "features" not in record and "data" in record:
        return _tensor_features(record["data"], source=source, line=line)
    if isinstance(record, dict):
        features = record.get("features")
        if label and "label" not in record:
            raise DataError('record has no "label"', source=source, line=line)
    elif isinstance(record, list) and not label:
        features = record
    else:
        shape = '{"features": [...], "label": y}' if label else '{"features": [...]} or [...]'
        raise DataError(f"record must be {shape}", source=source, line=line)
    if not isinstance(features, list):
        raise DataError('"features" must be a list of numbers', source=source, line=line)
    return features


def _tensor_features(data: Any, *, source: str | None, line: int | None) -> list:
    tensor = data.get("features") if isinstance(data, dict) else None
    values = tensor.get("values") if isinstance(tensor, dict) else None
    if not isinstance(values, list):
        raise DataError(
            '"data" must be {"features": {"values": [...]}} (sparse: with "keys" and "shape")',
            source=source,
            line=line,
        )
    keys, shape = tensor.get("keys"), tensor.get("shape")
    if keys is None:
        return values
    if not (isinstance(keys, list) and isinstance(shape, list) and len(shape) == 1):
        raise DataError(
            'sparse "features" need "keys" and a one-number "shape"', source=source, line=line
        )
    if len(keys) != len(values):
        raise DataError(
            f'sparse "features" have {len(keys)} keys for {len(values)} values',
            source=source,
            line=line,
        )
    dense: list = [0.0] * int(shape[0])
    for key, value in zip(keys, values, strict=True):
        if not isinstance(key, int) or not 0 <= key < len(dense):
            raise DataError(
                f"sparse key {key!r} is outside shape {shape[0]}", source=source, line=line
            )
        dense[key] = value
    return dense


def _to_matrix(
    rows: list[Any],
    columns: int,
    *,
    source: str | None,
    line_numbers: list[int],
    what: str = "feature",
) -> np.ndarray:
    try:
        return np.array(rows, dtype=np.float64).reshape(len(rows), columns)
    except (TypeError, ValueError):
        pass
    for row, values in enumerate(rows):
        for column, value in enumerate(values):
            if value is not None and not _is_number(value):
                raise DataError(
                    f"{what} is not a number: {value!r}",
                    source=source,
                    line=line_numbers[row],
                    column=column + 1,
                )
    raise DataError(f"{what}s are not numbers", source=source)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_no_missing(
    matrix: np.ndarray, *, source: str | None, line_numbers: list[int] | None = None
) -> None:
    """Refuse NaN features, naming the first one's line (when known) and column."""
    missing = np.isnan(matrix)
    if not missing.any():
        return
    row, column = (int(i) for i in np.argwhere(missing)[0])
    line = line_numbers[row] if line_numbers is not None else None
    where = "" if line_numbers is not None else f" in record {row + 1}"
    raise DataError(f"value is missing{where}", source=source, line=line, column=column + 1)
