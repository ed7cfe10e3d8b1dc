"""What only the S3 backend does: multipart uploads, server-side copy and compose, connections."""

from __future__ import annotations

import pickle
import random

import pytest

from infra.storage.s3 import S3ObjectStore

MiB = 1024 * 1024


@pytest.fixture
def store(s3_store) -> S3ObjectStore:
    return s3_store


@pytest.fixture
def bucket(store) -> str:
    import uuid

    name = f"s3-{uuid.uuid4().hex[:12]}"
    store.create_bucket(name)
    return name


@pytest.fixture
def calls(store, monkeypatch) -> list[str]:
    """The names of the client methods that move object data, as the store calls them."""
    seen: list[str] = []
    client = store._client
    for name in ["get_object", "put_object", "compose_object", "_upload_part", "_upload_part_copy"]:
        original = getattr(client, name)

        def spy(*args, _name=name, _original=original, **kwargs):
            seen.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(client, name, spy)
    return seen


def test_small_objects_are_one_put_and_large_ones_multipart(store, bucket, calls):
    small = store.write_bytes(f"s3://{bucket}/small", b"x" * 1000)
    assert "-" not in small.etag
    assert calls == ["put_object"]
    large = store.write_bytes(f"s3://{bucket}/large", random.randbytes(12 * MiB))
    assert large.etag.endswith("-2")  # 8 MiB + 4 MiB
    assert calls[1:] == ["_upload_part", "_upload_part"]


def test_a_failed_multipart_write_leaves_no_upload(store, bucket):
    with pytest.raises(RuntimeError), store.open_write(f"s3://{bucket}/k") as writer:
        writer.write(random.randbytes(20 * MiB))
        raise RuntimeError
    assert store._client._list_multipart_uploads(bucket).uploads == []
    assert not store.exists(f"s3://{bucket}/k")


def test_compose_of_large_parts_is_server_side(store, bucket, calls):
    parts = [random.randbytes(5 * MiB), random.randbytes(6 * MiB), b"tail"]
    for index, data in enumerate(parts):
        store.write_bytes(f"s3://{bucket}/p{index}", data)
    calls.clear()
    store.compose(f"s3://{bucket}/joined", [f"s3://{bucket}/p{i}" for i in range(3)])
    assert calls == [
        "compose_object",
        "_upload_part_copy",
        "_upload_part_copy",
        "_upload_part_copy",
    ]
    assert store.read_bytes(f"s3://{bucket}/joined") == b"".join(parts)


def test_compose_of_small_parts_streams(store, bucket, calls):
    store.write_bytes(f"s3://{bucket}/p0", b"small ")
    store.write_bytes(f"s3://{bucket}/p1", b"parts")
    calls.clear()
    store.compose(f"s3://{bucket}/joined", [f"s3://{bucket}/p0", f"s3://{bucket}/p1"])
    assert calls == ["get_object", "get_object", "put_object"]
    assert store.read_bytes(f"s3://{bucket}/joined") == b"small parts"


def test_copy_is_server_side(store, bucket, calls):
    store.write_bytes(f"s3://{bucket}/a", b"payload")
    calls.clear()
    store.copy(f"s3://{bucket}/a", f"s3://{bucket}/b")
    assert calls == ["compose_object"]


def test_readers_give_their_connection_back(store, bucket, monkeypatch):
    store.write_bytes(f"s3://{bucket}/k", b"0123456789")
    responses = []
    original = store._client.get_object

    def get_object(*args, **kwargs):
        responses.append(original(*args, **kwargs))
        return responses[-1]

    monkeypatch.setattr(store._client, "get_object", get_object)
    with store.open_read(f"s3://{bucket}/k", start=2) as reader:
        assert reader.read(1) == b"2"  # stop early
    assert responses[0].closed
    assert responses[0].connection is None  # released to the pool


def test_endpoint_must_be_a_plain_url():
    for url in ["127.0.0.1:9000", "ftp://host", "http://host/path"]:
        with pytest.raises(ValueError):
            S3ObjectStore(endpoint_url=url, access_key="k", secret_key="s")
    secure = S3ObjectStore(endpoint_url="https://s3.example.com", access_key="k", secret_key="s")
    assert secure._client._base_url.is_https


def test_pickles_carry_no_client(store):
    assert b"Minio" not in pickle.dumps(store)


def test_a_forked_process_gets_its_own_client(store, monkeypatch):
    first = store._client
    monkeypatch.setattr("os.getpid", lambda: -1)
    assert store._client is not first
