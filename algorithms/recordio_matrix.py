"""RecordIO-protobuf records as a feature matrix and labels, a block of records at a time.

A block whose records are all laid out byte for byte alike with dense float tensors (what the
SDK's ``write_numpy_to_dense_tensor`` writes) is read in one vectorised step; any other block
(sparse, int32, mixed) record by record.
"""

from __future__ import annotations

import io
from typing import BinaryIO

import numpy as np
from scipy import sparse

from algorithms.base import DataError
from algorithms.recordio import (
    MAGIC_BYTES,
    TENSOR_FIELDS,
    Tensor,
    decode_record,
    iter_payloads,
    read_varint,
)

# Rows gathered before they are packed into one block, so a channel is never a list of rows.
_BLOCK_ROWS = 16_384
_STRIDED_BYTES = 8 << 20


def read_matrix(
    stream: BinaryIO, *, source: str | None = None, feature_count: int | None = None
) -> tuple[np.ndarray | sparse.csr_matrix, np.ndarray | None]:
    """Every record's ``features["values"]`` as one float64 matrix (sparse where any record is)
    and ``label["values"]`` as a vector (None when no record has one)."""
    blocks: list[np.ndarray | sparse.csr_matrix] = []
    labels: list[np.ndarray] = []
    width = feature_count
    count = 0
    # Runs of records framed alike are cut from the bytes in one step; the rest one by one.
    buffer = stream.read(_STRIDED_BYTES)
    while buffer:
        run = _strided_run(buffer)
        if run is None:
            break
        table, used = run
        dense = _dense_table(table)
        if dense is None:
            break
        features, block_labels = dense
        width = _same(width, features.shape[1], count + 1, source)
        blocks.append(features)
        labels.append(block_labels)
        count += len(features)
        buffer = buffer[used:] + stream.read(_STRIDED_BYTES)
    pending: list[bytes] = []
    for payload in iter_payloads(_Joined(buffer, stream), source=source, first=count + 1):
        pending.append(payload)
        if len(pending) == _BLOCK_ROWS:
            block, block_labels, width = _decode_block(pending, count, width, source)
            blocks.append(block)
            labels.append(block_labels)
            count += len(pending)
            pending = []
    if pending:
        block, block_labels, width = _decode_block(pending, count, width, source)
        blocks.append(block)
        labels.append(block_labels)
    if not blocks:
        return np.empty((0, width or 0)), None
    if feature_count is not None and width != feature_count:
        raise DataError(
            f"the records have {width} features; expected {feature_count}", source=source
        )
    matrix = _stack(blocks, width)
    vector = np.concatenate(labels)
    if np.isnan(vector).all():
        return matrix, None
    if np.isnan(vector).any():
        missing = int(np.flatnonzero(np.isnan(vector))[0]) + 1
        raise DataError(f'record {missing} has no label["values"] where others do', source=source)
    return matrix, vector


class _Joined:
    """Bytes already read, then the rest of the stream."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self.head, self.stream = head, stream

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            chunk, self.head = self.head + self.stream.read(), b""
            return chunk
        if self.head:
            chunk, self.head = self.head[:size], self.head[size:]
            return chunk
        return self.stream.read(size)


def _strided_run(buffer: bytes) -> tuple[np.ndarray, int] | None:
    """The payloads of the whole records at the start of ``buffer`` that share the first one's
    header (magic, no continuation, the same length), as a ``(records, length)`` byte table, and
    the bytes they take; None when there is not one such record."""
    if len(buffer) < 8 or buffer[:4] != MAGIC_BYTES:
        return None
    length = int.from_bytes(buffer[4:8], "little")
    if length >> 29:
        return None  # a multi-part record
    stride = 8 + length + (-length % 4)
    rows = len(buffer) // stride
    if rows == 0:
        return None
    frames = np.frombuffer(buffer, dtype=np.uint8, count=rows * stride).reshape(rows, stride)
    alike = (frames[:, :8] == frames[0, :8]).all(axis=1)
    rows = rows if alike.all() else int(np.argmin(alike))
    return frames[:rows, 8 : 8 + length], rows * stride


def _decode_block(
    payloads: list[bytes], before: int, width: int | None, source: str | None
) -> tuple[np.ndarray | sparse.csr_matrix, np.ndarray, int | None]:
    """Records ``before + 1`` on as a matrix block and their labels (NaN where none)."""
    fast = _dense_block(payloads)
    if fast is not None:
        features, labels = fast
        return features, labels, _same(width, features.shape[1], before + 1, source)
    rows: list[Tensor] = []
    labels = np.full(len(payloads), np.nan)
    for index, payload in enumerate(payloads):
        number = before + index + 1
        try:
            features, label = decode_record(payload)
        except DataError as error:
            raise DataError(f"record {number}: {error.message}", source=source) from None
        tensor = features.get("values")
        if tensor is None:
            raise DataError(f'record {number} has no features["values"]', source=source)
        width = _row_width(tensor, width, number, source)
        rows.append(tensor)
        target = label.get("values")
        if target is not None and len(target.values):
            labels[index] = float(target.values[0])
    return _block(rows, width), labels, width


def _spans(data: bytes, base: int = 0) -> list[tuple[int, int, int, int]]:
    """``(field, wire type, start, end)`` of each field of a message at ``data``, the offsets
    counted from ``base``; a varint's span is its bytes."""
    spans, position = [], 0
    while position < len(data):
        key, position = read_varint(data, position)
        number, wire = key >> 3, key & 7
        if wire == 2:
            size, position = read_varint(data, position)
            start, position = position, position + size
        elif wire == 0:
            start = position
            _, position = read_varint(data, position)
        else:
            start, position = position, position + {1: 8, 5: 4}.get(wire, len(data))
        spans.append((number, wire, base + start, base + position))
    return spans


def _dense_layout(payload: bytes) -> dict[int, tuple[np.dtype, int, int]] | None:
    """Where a record of dense float tensors keeps its ``values`` bytes: ``{1: features,
    2: label}`` → (element type, start, end); None for any other shape of record."""
    layout = {}
    for number, wire, start, end in _spans(payload):
        if number not in (1, 2) or wire != 2:
            return None
        entry = {field: (s, e) for field, _, s, e in _spans(payload[start:end], start)}
        name = payload[slice(*entry.get(1, (0, 0)))]
        if name != b"values" or 2 not in entry:
            return None
        value = _spans(payload[slice(*entry[2])], entry[2][0])
        if len(value) != 1 or value[0][0] not in (2, 3):
            return None
        tensor = _spans(payload[value[0][2] : value[0][3]], value[0][2])
        if len(tensor) != 1 or tensor[0][:2] != (1, 2):
            return None
        layout[number] = (TENSOR_FIELDS[value[0][0]], tensor[0][2], tensor[0][3])
    return layout if 1 in layout else None


def _dense_block(payloads: list[bytes]) -> tuple[np.ndarray, np.ndarray] | None:
    size = len(payloads[0])
    if any(len(payload) != size for payload in payloads):
        return None
    return _dense_table(
        np.frombuffer(b"".join(payloads), dtype=np.uint8).reshape(len(payloads), size)
    )


def _dense_table(table: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Features and labels (NaN where none) of records of one size, a row of ``table`` each, when
    every one is laid out byte for byte as the first with dense float tensors (what the SDK's
    ``write_numpy_to_dense_tensor`` writes); else None."""
    try:
        layout = _dense_layout(table[0].tobytes())
    except DataError:
        return None
    if layout is None:
        return None
    fixed = np.ones(table.shape[1], dtype=bool)
    for _, start, end in layout.values():
        fixed[start:end] = False
    if not (table[:, fixed] == table[0, fixed]).all():
        return None
    dtype, start, end = layout[1]
    features = np.ascontiguousarray(table[:, start:end]).view(dtype).astype(np.float64)
    labels = np.full(len(table), np.nan)
    if 2 in layout:
        dtype, start, end = layout[2]
        if end > start:
            labels = np.ascontiguousarray(table[:, start:end]).view(dtype)[:, 0].astype(np.float64)
    return features, labels


def _row_width(tensor: Tensor, width: int | None, number: int, source: str | None) -> int:
    """The matrix's width once this row is read; a sparse row without ``shape`` may widen it."""
    if tensor.keys is None:
        return _same(width, len(tensor.values), number, source)
    if len(tensor.keys) != len(tensor.values):
        raise DataError(
            f"record {number} has {len(tensor.keys)} keys for {len(tensor.values)} values",
            source=source,
        )
    highest = int(tensor.keys.max(initial=-1))
    if tensor.shape:
        width = _same(width, tensor.shape[0], number, source)
    elif width is None or highest >= width:
        width = highest + 1
    if highest >= width:
        raise DataError(
            f"record {number} has key {highest}; its shape has {width} features", source=source
        )
    return width


def _same(width: int | None, size: int, number: int, source: str | None) -> int:
    if width is not None and size != width:
        raise DataError(f"record {number} has {size} features; expected {width}", source=source)
    return size


def _block(rows: list[Tensor], width: int | None) -> np.ndarray | sparse.csr_matrix:
    if all(row.keys is None for row in rows):
        return np.stack([row.values for row in rows]).astype(np.float64)
    indptr = np.cumsum([0] + [len(row.values) for row in rows])
    indices = np.concatenate(
        [row.keys if row.keys is not None else np.arange(len(row.values)) for row in rows]
    )
    values = np.concatenate([row.values.astype(np.float64) for row in rows])
    return sparse.csr_matrix((values, indices, indptr), shape=(len(rows), width or 0))


def _stack(blocks: list, width: int | None) -> np.ndarray | sparse.csr_matrix:
    if not any(sparse.issparse(block) for block in blocks):
        return blocks[0] if len(blocks) == 1 else np.concatenate(blocks)
    resized = []
    for block in blocks:
        block = sparse.csr_matrix(block)
        block.resize((block.shape[0], width or 0))
        resized.append(block)
    return sparse.vstack(resized, format="csr")


def decode_body(body: bytes, *, feature_count: int | None = None) -> np.ndarray:
    """An inference request's records as a dense float64 matrix (sparse records filled in)."""
    matrix, _ = read_matrix(io.BytesIO(body), feature_count=feature_count)
    return matrix.toarray() if sparse.issparse(matrix) else matrix
