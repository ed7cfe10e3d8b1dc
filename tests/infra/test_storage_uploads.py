"""Multipart uploads staged on local disk, completed into either backend."""

from __future__ import annotations

import io

import pytest

from infra.storage.uploads import (
    MIN_PART_SIZE,
    InvalidPart,
    InvalidPartOrder,
    MultipartUploads,
    PartTooSmall,
    UploadNotFound,
)


@pytest.fixture
def uploads(store, tmp_path) -> MultipartUploads:
    return MultipartUploads(tmp_path / "uploads", store)


def test_parts_complete_into_one_object(uploads, store, bucket):
    upload = uploads.create(bucket=bucket, key="data/big.bin", initiator="000000000001")
    first = b"a" * MIN_PART_SIZE
    one = uploads.write_part(upload.upload_id, 1, io.BytesIO(b"replaced"))
    one = uploads.write_part(upload.upload_id, 1, io.BytesIO(first))  # written again: replaced
    two = uploads.write_part(upload.upload_id, 2, io.BytesIO(b"end"))
    assert [(p.number, p.size) for p in uploads.parts(upload.upload_id)] == [
        (1, len(first)),
        (2, 3),
    ]
    assert [u.upload_id for u in uploads.list(bucket)] == [upload.upload_id]
    info = uploads.complete(
        upload.upload_id, [(1, one.etag), (2, f'"{two.etag}"')], content_type="text/plain"
    )
    assert info.size == len(first) + 3
    assert store.read_bytes(f"s3://{bucket}/data/big.bin") == first + b"end"
    with pytest.raises(UploadNotFound):
        uploads.parts(upload.upload_id)


def test_completion_refusals_write_nothing(uploads, store, bucket):
    upload = uploads.create(bucket=bucket, key="k", initiator="000000000001")
    one = uploads.write_part(upload.upload_id, 1, io.BytesIO(b"small"))
    two = uploads.write_part(upload.upload_id, 2, io.BytesIO(b"end"))
    with pytest.raises(PartTooSmall):
        uploads.complete(upload.upload_id, [(1, one.etag), (2, two.etag)], content_type="x")
    with pytest.raises(InvalidPart):
        uploads.complete(upload.upload_id, [(1, two.etag)], content_type="x")
    with pytest.raises(InvalidPartOrder):
        uploads.complete(upload.upload_id, [(2, two.etag), (1, one.etag)], content_type="x")
    assert not store.exists(f"s3://{bucket}/k")
    uploads.abort(upload.upload_id)
    with pytest.raises(UploadNotFound):
        uploads.write_part(upload.upload_id, 3, io.BytesIO(b"late"))


@pytest.mark.parametrize("upload_id", ["../../etc", "", "0" * 31 + "/", "x" * 32])
def test_upload_ids_never_name_a_path(uploads, upload_id):
    with pytest.raises(UploadNotFound):
        uploads.get(upload_id)
