"""RecordIO-protobuf as the SageMaker SDK writes and reads it: its writers are the oracle for what
the platform reads, its ``RecordDeserializer`` for what the platform answers."""

from __future__ import annotations

import gzip
import io
import struct

import numpy as np
import pytest
from sagemaker.amazon.common import (
    RecordDeserializer,
    RecordSerializer,
    write_numpy_to_dense_tensor,
    write_spmatrix_to_sparse_tensor,
)
from scipy import sparse

from algorithms import Channel, DataError
from algorithms.data import read_channel
from algorithms.recordio import (
    MAGIC,
    RECORDIO,
    encode_outputs,
    frame,
    iter_payloads,
)
from algorithms.recordio_matrix import read_matrix


def _dense(features, labels=None) -> bytes:
    buffer = io.BytesIO()
    write_numpy_to_dense_tensor(buffer, features, labels)
    return buffer.getvalue()


def _sparse(features, labels=None) -> bytes:
    buffer = io.BytesIO()
    write_spmatrix_to_sparse_tensor(buffer, features, labels)
    return buffer.getvalue()


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64], ids=str)
def test_dense_records_of_each_tensor_type_read_as_the_sdk_wrote_them(dtype) -> None:
    rng = np.random.default_rng(0)
    features = (rng.normal(size=(7, 4)) * 100).astype(dtype)  # int: negative values too
    labels = np.arange(7).astype(dtype)
    matrix, read_labels = read_matrix(io.BytesIO(_dense(features, labels)))
    np.testing.assert_allclose(matrix, features.astype(np.float64), rtol=1e-6)
    np.testing.assert_array_equal(read_labels, labels.astype(np.float64))


def test_sparse_records_keep_their_keys_shape_and_empty_rows() -> None:
    features = sparse.random(9, 12, density=0.2, random_state=1, format="csr", dtype=np.float32)
    features = features.tolil()
    features[3] = 0  # a row without any value: the SDK writes only its shape
    features = features.tocsr()
    matrix, labels = read_matrix(io.BytesIO(_sparse(features, np.ones(9, dtype=np.float32))))
    assert sparse.issparse(matrix) and matrix.shape == (9, 12)
    np.testing.assert_allclose(matrix.toarray(), features.toarray())
    np.testing.assert_array_equal(labels, np.ones(9))


def test_records_without_labels_have_none() -> None:
    _, labels = read_matrix(io.BytesIO(_dense(np.ones((3, 2), dtype=np.float32))))
    assert labels is None


def test_a_wrong_width_or_a_broken_frame_is_a_data_error_naming_the_record() -> None:
    body = _dense(np.ones((2, 3), dtype=np.float32)) + _dense(np.ones((1, 4), dtype=np.float32))
    with pytest.raises(DataError, match="record 3 has 4 features; expected 3"):
        read_matrix(io.BytesIO(body))
    with pytest.raises(DataError, match="record 1 does not start with RecordIO's magic"):
        read_matrix(io.BytesIO(b"1,2,3\n4,5,6\n"))
    with pytest.raises(DataError, match="cut short"):
        read_matrix(io.BytesIO(_dense(np.ones((2, 3), dtype=np.float32))[:-6]))


def _part(payload: bytes, flag: int) -> bytes:
    # RecordIO's length word carries a continuation flag in its top three bits
    return (
        struct.pack("<II", MAGIC, flag << 29 | len(payload)) + payload + b"\0" * (-len(payload) % 4)
    )


def test_multi_part_records_are_joined() -> None:
    record = next(iter_payloads(io.BytesIO(_dense(np.arange(6, dtype=np.float32)[None]))))
    split = _part(record[:5], 1) + _part(record[5:9], 2) + _part(record[9:], 3)
    assert list(iter_payloads(io.BytesIO(split + frame(record)))) == [record, record]


def test_a_channel_reads_record_io_files_streamed_gzipped_and_by_magic(tmp_path) -> None:
    rng = np.random.default_rng(1)
    features = rng.normal(size=(40, 3)).astype(np.float32)
    labels = (features[:, 0] > 0).astype(np.float32)
    folder = tmp_path / "train"
    folder.mkdir()
    (folder / "part-0.pbr").write_bytes(_dense(features[:25], labels[:25]))
    (folder / "part-1.pbr.gz").write_bytes(gzip.compress(_dense(features[25:], labels[25:])))
    for content_type in (RECORDIO, "text/csv"):  # record_set() names no ContentType
        dataset = read_channel(Channel("train", folder, content_type))
        np.testing.assert_allclose(dataset.features, features)
        np.testing.assert_array_equal(dataset.labels, labels)
    unlabelled = read_channel(Channel("train", folder, RECORDIO), labelled=False)
    assert unlabelled.labels is None


def test_a_labelled_algorithm_refuses_records_without_labels(tmp_path) -> None:
    folder = tmp_path / "train"
    folder.mkdir()
    (folder / "x.pbr").write_bytes(_dense(np.ones((3, 2), dtype=np.float32)))
    with pytest.raises(DataError, match="no label"):
        read_channel(Channel("train", folder, RECORDIO))


def test_answers_read_by_the_sdks_record_deserializer() -> None:
    body = encode_outputs(
        {
            "closest_cluster": np.array([1, 0]),
            "distance_to_cluster": np.array([0.25, 2.5]),
            "projection": np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]),
        }
    )
    records = RecordDeserializer().deserialize(io.BytesIO(body), RECORDIO)
    assert [r.label["closest_cluster"].float32_tensor.values[0] for r in records] == [1.0, 0.0]
    assert records[1].label["distance_to_cluster"].float32_tensor.values[0] == 2.5
    assert list(records[1].label["projection"].float32_tensor.values) == [4.0, 5.0, 6.0]


def test_the_sdks_record_serializer_bytes_read_as_its_matrix() -> None:
    features = np.arange(12, dtype=np.float32).reshape(3, 4)
    body = RecordSerializer().serialize(features).read()
    matrix, labels = read_matrix(io.BytesIO(body), feature_count=4)
    np.testing.assert_array_equal(matrix, features)
    assert labels is None


def test_records_alike_are_read_at_once_and_unlike_ones_one_by_one() -> None:
    features = np.arange(20, dtype=np.float64).reshape(5, 4)
    alike = _dense(features, np.ones(5))  # one layout: the vectorised path
    unlike = alike + _dense(features[:1].astype(np.float32), np.zeros(1, dtype=np.float32))
    matrix, labels = read_matrix(io.BytesIO(unlike))
    np.testing.assert_array_equal(matrix, np.vstack([features, features[:1]]))
    np.testing.assert_array_equal(labels, [1, 1, 1, 1, 1, 0])
    with pytest.raises(DataError, match='record 6 has no label\\["values"\\] where others do'):
        read_matrix(io.BytesIO(alike + _dense(features[:1])))


def test_runs_of_alike_records_across_read_pieces_and_layouts() -> None:
    rng = np.random.default_rng(3)
    many = rng.normal(size=(45_000, 50)).astype(np.float32)  # ~9.7 MB: more than one piece
    few = sparse.random(3, 50, density=0.1, random_state=2, format="csr", dtype=np.float32)
    body = _dense(many, np.ones(45_000, dtype=np.float32))
    body += _sparse(few, np.zeros(3, dtype=np.float32))
    body += _dense(many[:2], np.ones(2, dtype=np.float32))
    matrix, labels = read_matrix(io.BytesIO(body))
    expected = np.vstack([many, few.toarray(), many[:2]])
    np.testing.assert_array_equal(matrix.toarray(), expected)
    np.testing.assert_array_equal(labels, np.r_[np.ones(45_000), np.zeros(3), np.ones(2)])
    with pytest.raises(DataError, match="record 45001 is cut short"):
        read_matrix(io.BytesIO(body[: len(_dense(many, np.ones(45_000, np.float32))) + 40]))
