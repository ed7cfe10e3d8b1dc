"""``application/x-recordio-protobuf``: SageMaker's ``Record`` protobuf messages, RecordIO-framed.

A RecordIO record is the magic ``0xced7230a``, a little-endian length word (its top 3 bits a
continuation flag, the rest the byte count), the payload, and zero padding to 4 bytes. Each
payload is an ``aialgs.data.Record``: ``features`` and ``label`` maps from a name (``"values"``
for data) to a ``Value`` holding a Float32, Float64 or Int32 tensor (``values``; ``keys`` and
``shape`` when sparse). The protobuf wire format is read and written here by hand, so the
platform needs no generated code; the SDK's own writer and reader are the tests' oracle.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from algorithms.base import DataError

RECORDIO = "application/x-recordio-protobuf"
MAGIC = 0xCED7230A
MAGIC_BYTES = struct.pack("<I", MAGIC)
_LENGTH_MASK = (1 << 29) - 1
# Value's oneof field numbers → the tensor's element type on the wire.
TENSOR_FIELDS = {2: np.dtype("<f4"), 3: np.dtype("<f8"), 7: np.dtype(np.int32)}
_FLOAT32_TENSOR = 2
_READ_BYTES = 1 << 20


@dataclass(frozen=True)
class Tensor:
    """One tensor of a record: ``values``, and for a sparse one its ``keys`` and ``shape``."""

    values: np.ndarray
    keys: np.ndarray | None = None
    shape: tuple[int, ...] = ()


# -- RecordIO framing ---------------------------------------------------------------------------


class PayloadTooLarge(DataError):
    """A record's payload is longer than the reader's ``limit``: refused from its header, before
    the payload is read. ``record`` counts whole (joined) records from 1."""

    def __init__(self, *, record: int, size: int, limit: int, source: str | None) -> None:
        super().__init__(
            f"record {record} holds at least {size} bytes, more than {limit}", source=source
        )
        self.record = record
        self.size = size
        self.limit = limit


def iter_payloads(
    stream: BinaryIO, *, source: str | None = None, first: int = 1, limit: int | None = None
) -> Iterator[bytes]:
    """Each record's payload, read from ``stream`` a piece at a time (``first``: the number of
    its first record, for errors). A multi-part record (MXNet's continuation flags 1, 2, 3) is
    joined into one payload. With ``limit``, a payload longer than it raises
    :class:`PayloadTooLarge` as soon as a header says so, so memory stays within the limit."""
    reader = _Reader(stream)
    number = first - 1
    parts: list[bytes] = []
    joined, payloads = 0, 0
    while True:
        header = reader.read(8)
        if not header:
            if parts:
                raise DataError("the last record is incomplete", source=source)
            return
        number += 1
        if len(header) < 8:
            raise DataError(f"record {number} is cut short in its header", source=source)
        magic, word = struct.unpack("<II", header)
        if magic != MAGIC:
            raise DataError(
                f"record {number} does not start with RecordIO's magic 0xced7230a "
                f"(is this {RECORDIO}?)",
                source=source,
            )
        flag, length = word >> 29, word & _LENGTH_MASK
        if limit is not None and joined + length > limit:
            raise PayloadTooLarge(
                record=payloads + 1, size=joined + length, limit=limit, source=source
            )
        payload = reader.read(length)
        if len(payload) < length:
            raise DataError(
                f"record {number} is cut short ({len(payload)} of {length} bytes)", source=source
            )
        reader.read(-length % 4)
        if flag == 0:
            payloads += 1
            yield payload
        elif flag == 3:
            parts.append(payload)
            payloads += 1
            yield b"".join(parts)
            parts, joined = [], 0
        else:
            parts.append(payload)
            joined += length


class _Reader:
    """Exact-size reads over a stream, buffered in large pieces."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.buffer = b""
        self.position = 0

    def read(self, size: int) -> bytes:
        while len(self.buffer) - self.position < size:
            more = self.stream.read(max(_READ_BYTES, size))
            if not more:
                break
            self.buffer = self.buffer[self.position :] + more
            self.position = 0
        chunk = self.buffer[self.position : self.position + size]
        self.position += len(chunk)
        return chunk


def frame(payload: bytes) -> bytes:
    """One RecordIO record holding ``payload``."""
    return MAGIC_BYTES + struct.pack("<I", len(payload)) + payload + b"\0" * (-len(payload) % 4)


def is_recordio(head: bytes) -> bool:
    """Whether data starting with ``head`` is RecordIO (its first record's magic)."""
    return head[:4] == MAGIC_BYTES


# -- the protobuf wire format -------------------------------------------------------------------


def read_varint(data: bytes, position: int) -> tuple[int, int]:
    """The varint at ``position`` and the position after it."""
    result = shift = 0
    while True:
        if position >= len(data):
            raise DataError("a protobuf varint runs past the end of its record")
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, position
        shift += 7


def _fields(data: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """``(field number, wire type, value)`` for each field of one message."""
    position, end = 0, len(data)
    while position < end:
        key, position = read_varint(data, position)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, position = read_varint(data, position)
        elif wire == 1:
            value, position = data[position : position + 8], position + 8
        elif wire == 2:
            size, position = read_varint(data, position)
            value, position = data[position : position + size], position + size
        elif wire == 5:
            value, position = data[position : position + 4], position + 4
        else:
            raise DataError(f"protobuf wire type {wire} is not one a Record uses")
        if position > end:
            raise DataError("a protobuf field runs past the end of its record")
        yield number, wire, value


def _packed_varints(data: bytes) -> np.ndarray:
    """A packed run of varints as uint64, vectorised for long runs."""
    if len(data) < 64:
        values, position = [], 0
        while position < len(data):
            value, position = read_varint(data, position)
            values.append(value)
        return np.array(values, dtype=np.uint64)
    raw = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(raw < 0x80)
    if len(ends) == 0 or ends[-1] != len(raw) - 1:
        raise DataError("a packed protobuf varint runs past the end of its field")
    starts = np.concatenate(([0], ends[:-1] + 1))
    offsets = np.arange(len(raw)) - np.repeat(starts, ends - starts + 1)
    groups = (raw & 0x7F).astype(np.uint64) << (7 * offsets).astype(np.uint64)
    return np.bitwise_or.reduceat(groups, starts)


def _tensor(data: bytes, dtype: np.dtype) -> Tensor:
    values: list[np.ndarray] = []
    keys: list[np.ndarray] = []
    shape: list[np.ndarray] = []
    for number, wire, value in _fields(data):
        if number == 1:
            if dtype.kind == "f":
                values.append(np.frombuffer(value, dtype=dtype))
            elif wire == 2:
                values.append(_packed_varints(value).view(np.int64).astype(np.int32))
            else:
                values.append(np.array([value], dtype=np.uint64).view(np.int64).astype(np.int32))
        elif number in (2, 3):
            run = _packed_varints(value) if wire == 2 else np.array([value], dtype=np.uint64)
            (keys if number == 2 else shape).append(run)
    joined = values[0] if len(values) == 1 else np.concatenate(values or [np.empty(0, dtype)])
    if shape and not keys:
        keys = [np.empty(0, dtype=np.uint64)]  # a sparse row of zeros: its empty keys are omitted
    return Tensor(
        values=joined,
        keys=np.concatenate(keys).astype(np.int64) if keys else None,
        shape=tuple(int(size) for size in np.concatenate(shape)) if shape else (),
    )


def _value(data: bytes) -> Tensor | None:
    for number, _, value in _fields(data):
        if number in TENSOR_FIELDS:
            return _tensor(value, TENSOR_FIELDS[number])
    return None  # a Bytes value, which no built-in reads


def decode_record(payload: bytes) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """A ``Record``'s ``features`` and ``label`` maps."""
    maps: tuple[dict[str, Tensor], dict[str, Tensor]] = ({}, {})
    for number, _, entry in _fields(payload):
        if number not in (1, 2):
            continue  # uid, metadata, configuration
        name, tensor = "", None
        for field, _, value in _fields(entry):
            if field == 1:
                name = value.decode("utf-8", errors="replace")
            elif field == 2:
                tensor = _value(value)
        if tensor is not None:
            maps[number - 1][name] = tensor
    return maps


def _key(number: int, wire: int) -> bytes:
    return _encode_varint(number << 3 | wire)


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _length_delimited(number: int, body: bytes) -> bytes:
    return _key(number, 2) + _encode_varint(len(body)) + body


def _float32_value(values: np.ndarray) -> bytes:
    tensor = _length_delimited(1, np.ascontiguousarray(values, dtype="<f4").tobytes())
    return _length_delimited(_FLOAT32_TENSOR, tensor)


def encode_record(
    features: Mapping[str, np.ndarray] | None = None, label: Mapping[str, np.ndarray] | None = None
) -> bytes:
    """A ``Record`` whose maps hold each array as a dense Float32 tensor."""
    parts = []
    for number, entries in ((1, features or {}), (2, label or {})):
        for name, values in entries.items():
            entry = _length_delimited(1, name.encode()) + _length_delimited(
                2, _float32_value(np.atleast_1d(values))
            )
            parts.append(_length_delimited(number, entry))
    return b"".join(parts)


# -- answers ------------------------------------------------------------------------------------


def encode_outputs(outputs: Mapping[str, np.ndarray]) -> bytes:
    """One record per row, each output a Float32 tensor of its ``label`` map, as SageMaker's
    first-party algorithms answer (``record.label["score"].float32_tensor.values[0]``)."""
    names = list(outputs)
    count = len(outputs[names[0]]) if names else 0
    columns = [np.asarray(outputs[name], dtype=np.float32) for name in names]
    return b"".join(
        frame(
            encode_record(
                label={name: column[row] for name, column in zip(names, columns, strict=True)}
            )
        )
        for row in range(count)
    )
