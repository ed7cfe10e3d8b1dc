"""ndarray_file: MXNet's NDArray file, as mx.nd.save writes it and mx.nd.load reads it."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from algorithms import ndarray_file
from algorithms.ndarray_file import NDArrayFileError

LIST_HEADER = struct.pack("<QQ", 0x112, 0)


def _dense_v2(values: np.ndarray, flag: int) -> bytes:
    """One array laid out by hand from src/ndarray/ndarray.cc: V2 magic, dense storage, int32
    ndim and int64 dimensions, CPU context (1, 0), the type flag, the values."""
    shape = struct.pack(f"<i{values.ndim}q", values.ndim, *values.shape)
    return (
        struct.pack("<Ii", 0xF993FAC9, 0)
        + shape
        + struct.pack("<iii", 1, 0, flag)
        + (values.tobytes())
    )


def test_reads_and_writes_sagemakers_k_means_layout_byte_for_byte() -> None:
    # What SageMaker's k-means writes: one unnamed (k, feature_dim) float32 array, no names.
    centroids = np.arange(6, dtype="<f4").reshape(2, 3) / 4
    by_hand = LIST_HEADER + struct.pack("<Q", 1) + _dense_v2(centroids, 0) + struct.pack("<Q", 0)
    (loaded,) = ndarray_file.loads(by_hand)
    assert loaded.dtype == np.float32 and loaded.shape == (2, 3)
    np.testing.assert_array_equal(loaded, centroids)
    assert ndarray_file.dumps([centroids]) == by_hand


def test_named_arrays_come_back_as_a_dict_in_their_order() -> None:
    # SageMaker's PCA: s, v and mean, named (each name a uint64 length and its bytes).
    s, v, mean = np.ones(2, "<f4"), np.eye(3, 2, dtype="<f4"), np.zeros((1, 3), "<f4")
    names = b"".join(struct.pack("<Q", len(n)) + n for n in (b"s", b"v", b"mean"))
    arrays = b"".join(_dense_v2(a, 0) for a in (s, v, mean))
    by_hand = LIST_HEADER + struct.pack("<Q", 3) + arrays + struct.pack("<Q", 3) + names
    loaded = ndarray_file.loads(by_hand)
    assert list(loaded) == ["s", "v", "mean"]
    np.testing.assert_array_equal(loaded["v"], v)
    assert ndarray_file.dumps({"s": s, "v": v, "mean": mean}) == by_hand


@pytest.mark.parametrize(
    "dtype", ["float32", "float64", "float16", "uint8", "int32", "int8", "int64", "bool", "int16"]
)
def test_round_trip_keeps_values_shape_and_dtype(tmp_path, dtype: str) -> None:
    array = (np.arange(24).reshape(2, 3, 4) % 7).astype(dtype)
    ndarray_file.save(tmp_path / "model_algo-1", {"weights": array, "bias": array[0, 0]})
    loaded = ndarray_file.load(tmp_path / "model_algo-1")
    assert loaded["weights"].dtype == np.dtype(dtype) and loaded["weights"].shape == (2, 3, 4)
    np.testing.assert_array_equal(loaded["weights"], array)
    np.testing.assert_array_equal(loaded["bias"], array[0, 0])


def test_older_layouts_and_sparse_storage_are_read() -> None:
    values = np.array([[1.5, -2.0]], dtype="<f8")
    # V1: magic, then the shape (no storage type); legacy: ndim as magic, uint32 dimensions.
    v1 = struct.pack("<Iiqq", 0xF993FAC8, 2, 1, 2) + struct.pack("<iii", 1, 0, 1) + values.tobytes()
    legacy = struct.pack("<III", 2, 1, 2) + struct.pack("<iii", 1, 0, 1) + values.tobytes()
    # CSR (storage 2) of [[0, 7], [5, 0]]: storage shape (2,), shape, context, float32, then
    # indptr and indices as int64 aux arrays (type flag 6), values, indptr, indices.
    csr = struct.pack("<Ii", 0xF993FAC9, 2) + struct.pack("<iq", 1, 2)
    csr += struct.pack("<iqq", 2, 2, 2) + struct.pack("<iii", 1, 0, 0)
    csr += struct.pack("<iiq", 6, 1, 3) + struct.pack("<iiq", 6, 1, 2)
    csr += np.array([7, 5], "<f4").tobytes() + np.array([0, 1, 2], "<i8").tobytes()
    csr += np.array([1, 0], "<i8").tobytes()
    # bfloat16 (flag 12) is the top half of a float32.
    bf16 = struct.pack("<Iiiq", 0xF993FAC9, 0, 1, 2) + struct.pack("<iii", 1, 0, 12)
    bf16 += (np.array([1.0, -3.5], "<f4").view("<u4") >> 16).astype("<u2").tobytes()
    body = LIST_HEADER + struct.pack("<Q", 4) + v1 + legacy + csr + bf16 + struct.pack("<Q", 0)
    first, second, dense, widened = ndarray_file.loads(body)
    np.testing.assert_array_equal(first, values)
    np.testing.assert_array_equal(second, values)
    np.testing.assert_array_equal(dense, [[0, 7], [5, 0]])
    np.testing.assert_array_equal(widened, [1.0, -3.5])


def test_a_scalar_is_saved_as_one_value() -> None:
    (loaded,) = ndarray_file.loads(ndarray_file.dumps([np.float32(2.5)]))
    assert loaded.shape == (1,) and loaded[0] == 2.5


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"PK\x03\x04" + bytes(20), "not an MXNet NDArray file"),
        (LIST_HEADER + struct.pack("<Q", 1) + _dense_v2(np.ones(4, "<f4"), 0)[:-4], "ends early"),
        (LIST_HEADER + struct.pack("<Q", 1) + _dense_v2(np.ones(1, "<f4"), 99), "type flag 99"),
        (LIST_HEADER + struct.pack("<Q", 10**12), "claims 1000000000000 arrays"),
    ],
)
def test_a_file_that_is_not_one_is_refused_with_the_reason(body: bytes, message: str) -> None:
    with pytest.raises(NDArrayFileError, match=message):
        ndarray_file.loads(body)


def test_a_dtype_mxnet_has_not_is_refused() -> None:
    with pytest.raises(NDArrayFileError, match="array 0: MXNet has no type for dtype complex64"):
        ndarray_file.dumps([np.ones(2, np.complex64)])
