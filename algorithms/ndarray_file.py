"""MXNet's NDArray file (``mx.nd.save``/``mx.nd.load``), read and written with NumPy alone.

SageMaker's first-party algorithms keep their model as such a file, ``model_algo-1`` in
``model.tar.gz``: k-means its centroids (one unnamed array), PCA ``v``, ``s`` and ``mean``. Users
open it with ``mx.ndarray.load("model_algo-1")``; ours are written so that the same call reads
them, and theirs are read here without MXNet (which no longer installs).

The layout (apache/mxnet ``src/ndarray/ndarray.cc``, little-endian): ``uint64 0x112`` (the list
magic), ``uint64 0`` (reserved), ``uint64`` array count, each array, then ``uint64`` name count
(0 or one per array), each name a ``uint64`` length and its UTF-8 bytes. An array is ``uint32``
magic ``0xF993FAC9`` (V2; ``0xF993FACA`` V3 in NumPy shape semantics), ``int32`` storage type
(0 dense, 1 row-sparse, 2 CSR), for sparse its storage shape, its shape (``int32`` ndim, then
``int64`` per dimension), the context (``int32`` device type, ``int32`` device id), ``int32``
type flag, for sparse each auxiliary array's type flag and shape, the values in C order, then
the auxiliary arrays' values. Files older than V2 start an array with ``0xF993FAC8`` (V1: no
storage type) or with the ``uint32`` ndim itself and ``uint32`` dimensions (legacy).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from algorithms.base import AlgorithmError

LIST_MAGIC = 0x112
V1_MAGIC = 0xF993FAC8
V2_MAGIC = 0xF993FAC9
V3_MAGIC = 0xF993FACA
DENSE, ROW_SPARSE, CSR = 0, 1, 2
CPU = 1

# mshadow's type flags; 12 (bfloat16) has no NumPy type and is read widened to float32.
TYPE_FLAGS: dict[int, np.dtype] = {
    0: np.dtype("<f4"),
    1: np.dtype("<f8"),
    2: np.dtype("<f2"),
    3: np.dtype("u1"),
    4: np.dtype("<i4"),
    5: np.dtype("i1"),
    6: np.dtype("<i8"),
    7: np.dtype("?"),
    8: np.dtype("<i2"),
    9: np.dtype("<u2"),
    10: np.dtype("<u4"),
    11: np.dtype("<u8"),
}
BFLOAT16 = 12
_FLAG_OF = {dtype: flag for flag, dtype in TYPE_FLAGS.items()}


class NDArrayFileError(AlgorithmError, ValueError):
    """Bytes that are not an NDArray file, or arrays that cannot be written as one."""


def dumps(arrays: Sequence[np.ndarray] | Mapping[str, np.ndarray]) -> bytes:
    """The file ``mx.nd.save`` writes for ``arrays``: a list (read back as a list) or a
    mapping of names (read back as a dict), dense, on the CPU, in their own dtypes."""
    names = list(arrays) if isinstance(arrays, Mapping) else []
    values = list(arrays.values()) if isinstance(arrays, Mapping) else list(arrays)
    parts = [struct.pack("<QQQ", LIST_MAGIC, 0, len(values))]
    parts += [_dump_array(np.asarray(value), index) for index, value in enumerate(values)]
    parts.append(struct.pack("<Q", len(names)))
    for name in names:
        encoded = str(name).encode("utf-8")
        parts += [struct.pack("<Q", len(encoded)), encoded]
    return b"".join(parts)


def loads(data: bytes) -> list[np.ndarray] | dict[str, np.ndarray]:
    """The arrays of an NDArray file, as ``mx.nd.load`` gives them: a dict when the file names
    them, else a list. Sparse arrays come back dense."""
    reader = _Reader(data)
    magic, _reserved = reader.unpack("<QQ")
    if magic != LIST_MAGIC:
        raise NDArrayFileError(
            f"not an MXNet NDArray file: starts with {magic:#x}, not the list magic {LIST_MAGIC:#x}"
        )
    (count,) = reader.unpack("<Q")
    arrays = [_load_array(reader, index) for index in range(reader.count(count, "arrays"))]
    (name_count,) = reader.unpack("<Q")
    if name_count not in (0, len(arrays)):
        raise NDArrayFileError(f"names {name_count} arrays but holds {len(arrays)}")
    names = []
    for _ in range(name_count):
        (length,) = reader.unpack("<Q")
        names.append(reader.take(reader.count(length, "name bytes")).decode("utf-8"))
    if reader.offset != len(data):
        raise NDArrayFileError(f"{len(data) - reader.offset} bytes follow the last name")
    return dict(zip(names, arrays, strict=True)) if names else arrays


def save(path: str | Path, arrays: Sequence[np.ndarray] | Mapping[str, np.ndarray]) -> None:
    Path(path).write_bytes(dumps(arrays))


def load(path: str | Path) -> list[np.ndarray] | dict[str, np.ndarray]:
    try:
        return loads(Path(path).read_bytes())
    except NDArrayFileError as error:
        raise NDArrayFileError(f"{path}: {error}") from None


def _dump_array(array: np.ndarray, index: int) -> bytes:
    dtype = array.dtype.newbyteorder("<") if array.dtype.byteorder == ">" else array.dtype
    flag = _FLAG_OF.get(dtype)
    if flag is None:
        raise NDArrayFileError(f"array {index}: MXNet has no type for dtype {array.dtype}")
    if array.ndim == 0:
        # MXNet outside NumPy semantics reads ndim 0 as "no array"; a scalar is saved as (1,).
        array = array.reshape(1)
    header = struct.pack("<Iii", V2_MAGIC, DENSE, array.ndim)
    header += struct.pack(f"<{array.ndim}q", *array.shape)
    header += struct.pack("<iii", CPU, 0, flag)
    return header + np.ascontiguousarray(array, dtype=dtype).tobytes()


def _load_array(reader: _Reader, index: int) -> np.ndarray:
    (magic,) = reader.unpack("<I")
    storage = DENSE
    storage_shape: tuple[int, ...] = ()
    if magic in (V2_MAGIC, V3_MAGIC):
        (storage,) = reader.unpack("<i")
        if storage not in (DENSE, ROW_SPARSE, CSR):
            raise NDArrayFileError(f"array {index}: unknown storage type {storage}")
        if storage != DENSE:
            storage_shape = reader.shape()
        shape = reader.shape()
    elif magic == V1_MAGIC:
        shape = reader.shape()
    else:  # legacy: the magic was the ndim, each dimension a uint32
        shape = reader.unpack(f"<{reader.count(magic, 'dimensions')}I")
    if (len(shape) == 0 and magic != V3_MAGIC) or any(size < 0 for size in shape):
        return np.zeros((0,), dtype=np.float32)  # MXNet's "none" array: shape only
    _device_type, _device_id, flag = reader.unpack("<iii")
    aux: list[tuple[int, tuple[int, ...]]] = []
    for _ in range({DENSE: 0, ROW_SPARSE: 1, CSR: 2}[storage]):
        (aux_flag,) = reader.unpack("<i")
        aux.append((aux_flag, reader.shape()))
    values = reader.array(flag, storage_shape if storage != DENSE else shape, index)
    aux_values = [reader.array(aux_flag, aux_shape, index) for aux_flag, aux_shape in aux]
    if storage == DENSE:
        return values
    return _densify(storage, shape, values, aux_values)


def _densify(
    storage: int, shape: tuple[int, ...], values: np.ndarray, aux: list[np.ndarray]
) -> np.ndarray:
    dense = np.zeros(shape, dtype=values.dtype)
    if storage == ROW_SPARSE:
        dense[aux[0].astype(np.int64)] = values
        return dense
    indptr, indices = aux[0].astype(np.int64), aux[1].astype(np.int64)
    rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    dense[rows, indices] = values
    return dense


class _Reader:
    """A cursor over the file's bytes that names what ran out."""

    def __init__(self, data: bytes) -> None:
        self.data = memoryview(data)
        self.offset = 0

    def take(self, size: int) -> bytes:
        if self.offset + size > len(self.data):
            raise NDArrayFileError(
                f"ends early: {size} bytes wanted at offset {self.offset} of {len(self.data)}"
            )
        chunk = bytes(self.data[self.offset : self.offset + size])
        self.offset += size
        return chunk

    def unpack(self, layout: str) -> tuple[int, ...]:
        return struct.unpack(layout, self.take(struct.calcsize(layout)))

    def count(self, value: int, what: str) -> int:
        # A count larger than the bytes left is corruption; refuse it before allocating.
        if value > len(self.data) - self.offset:
            raise NDArrayFileError(f"claims {value} {what} at offset {self.offset}")
        return value

    def shape(self) -> tuple[int, ...]:
        (ndim,) = self.unpack("<i")
        if ndim <= 0:
            return () if ndim == 0 else (-1,)  # V3's unknown shape
        return self.unpack(f"<{self.count(ndim, 'dimensions')}q")

    def array(self, flag: int, shape: tuple[int, ...], index: int) -> np.ndarray:
        dtype = TYPE_FLAGS.get(flag, np.dtype("<u2") if flag == BFLOAT16 else None)
        if dtype is None:
            raise NDArrayFileError(f"array {index}: unknown type flag {flag}")
        size = int(np.prod(shape, dtype=np.int64))
        raw = np.frombuffer(self.take(size * dtype.itemsize), dtype=dtype).reshape(shape)
        if flag == BFLOAT16:  # bfloat16 is the top half of a float32
            return (raw.astype("<u4") << 16).view("<f4")
        return raw.astype(dtype.newbyteorder("="))
