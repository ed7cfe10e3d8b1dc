"""The object-store contract: every test runs against each backend (the ``store`` fixture)."""

from __future__ import annotations

import hashlib
import io
import pickle
import random
import time
from datetime import datetime

import pytest

from infra.config import read_settings
from infra.storage import (
    BucketNotEmpty,
    BucketNotFound,
    InvalidURI,
    ObjectNotFound,
    StorageError,
    StorageUnavailable,
    open_store,
    until_available,
)
from infra.storage.local import LocalObjectStore
from infra.storage.s3 import S3ObjectStore

MiB = 1024 * 1024


def generated(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


def keys(infos) -> list[str]:
    return [info.key for info in infos]


@pytest.fixture
def tree(store, bucket) -> str:
    """A bucket holding a few objects whose keys share prefixes; returns ``s3://bucket``."""
    for key in ["a", "data-2", "data/x", "data/y/z", "database", "other/q"]:
        store.write_bytes(f"s3://{bucket}/{key}", key.encode())
    return f"s3://{bucket}"


# Round trips
def test_write_read_stat(store, bucket):
    uri = f"s3://{bucket}/dir/hello.txt"
    info = store.write_bytes(uri, b"hello world")
    assert (info.bucket, info.key, info.uri, info.size) == (bucket, "dir/hello.txt", uri, 11)
    assert info.etag == hashlib.md5(b"hello world").hexdigest()  # one part: the MD5
    assert isinstance(info.last_modified, datetime) and info.last_modified.tzinfo is not None
    assert store.stat(uri) == info
    assert store.exists(uri)
    assert store.read_bytes(uri) == b"hello world"


def test_open_write_streams_and_counts(store, bucket):
    uri = f"s3://{bucket}/parts.bin"
    with store.open_write(uri) as writer:
        assert writer.write(b"abc") == 3
        writer.write(memoryview(b"defg"))
        writer.write(bytearray(b""))
        assert writer.tell() == 7
    assert store.read_bytes(uri) == b"abcdefg"


def test_text_can_be_written_through_a_wrapper(store, bucket):
    uri = f"s3://{bucket}/table.csv"
    with store.open_write(uri, content_type="text/csv") as writer:
        text = io.TextIOWrapper(writer, encoding="utf-8", newline="")
        text.write("1,2.5\n0,3.5\n")
        text.flush()
        text.detach()
    with store.open_read(uri) as reader:
        assert io.TextIOWrapper(reader, encoding="utf-8").readlines() == ["1,2.5\n", "0,3.5\n"]


def test_empty_object(store, bucket):
    uri = f"s3://{bucket}/empty"
    assert store.write_bytes(uri, b"").size == 0
    assert store.read_bytes(uri) == b""
    assert store.read_bytes(uri, start=0, end=10) == b""


def test_overwrite_replaces_content_and_etag(store, bucket):
    uri = f"s3://{bucket}/key"
    first = store.write_bytes(uri, b"one")
    second = store.write_bytes(uri, b"two!")
    assert second.etag != first.etag
    assert store.read_bytes(uri) == b"two!"


# Ranged reads
@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (0, None, b"0123456789"),
        (4, None, b"456789"),
        (2, 5, b"234"),
        (7, 100, b"789"),  # end beyond the size
        (3, 3, b""),
        (10, None, b""),  # start at the end
        (25, 30, b""),  # wholly past the end
    ],
)
def test_ranged_reads(store, bucket, start, end, expected):
    uri = f"s3://{bucket}/digits"
    store.write_bytes(uri, b"0123456789")
    assert store.read_bytes(uri, start=start, end=end) == expected


def test_reader_reads_in_pieces(store, bucket):
    uri = f"s3://{bucket}/lines"
    store.write_bytes(uri, b"first\nsecond\nthird\n")
    with store.open_read(uri, start=6) as reader:
        assert reader.read(3) == b"sec"
        assert reader.readline() == b"ond\n"
        assert list(reader) == [b"third\n"]
        assert reader.read() == b""
    assert reader.closed


def test_bad_range_is_rejected(store, bucket):
    uri = f"s3://{bucket}/digits"
    store.write_bytes(uri, b"0123456789")
    for start, end in [(-1, None), (5, 2)]:
        with pytest.raises(ValueError):
            store.read_bytes(uri, start=start, end=end)


# Listing and browsing
def test_list_everything_in_key_order(store, tree):
    expected = ["a", "data-2", "data/x", "data/y/z", "database", "other/q"]
    assert keys(store.list(tree + "/")) == expected
    assert keys(store.list(tree)) == expected


def test_list_by_prefix_is_a_plain_string_prefix(store, tree):
    # "da" is no folder: it matches keys on both sides of the "data/" folder, in key order.
    assert keys(store.list(tree + "/da")) == ["data-2", "data/x", "data/y/z", "database"]
    assert keys(store.list(tree + "/data/")) == ["data/x", "data/y/z"]
    assert keys(store.list(tree + "/data/y")) == ["data/y/z"]
    assert keys(store.list(tree + "/nothing")) == []
    infos = list(store.list(tree + "/data/"))
    assert [info.size for info in infos] == [6, 8]
    assert infos[0].uri == tree + "/data/x"


def test_browse_shows_one_level(store, tree):
    top = store.browse(tree + "/")
    assert top.prefixes == [tree + "/data/", tree + "/other/"]
    assert keys(top.objects) == ["a", "data-2", "database"]

    data = store.browse(tree + "/data/")
    assert data.prefixes == [tree + "/data/y/"]
    assert keys(data.objects) == ["data/x"]

    partial = store.browse(tree + "/da")
    assert partial.prefixes == [tree + "/data/"]
    assert keys(partial.objects) == ["data-2", "database"]

    assert store.browse(tree + "/missing/").prefixes == []
    assert store.browse(tree + "/missing/").objects == []


# Atomicity
class Boom(Exception):
    pass


@pytest.mark.parametrize("size", [100, 9 * MiB], ids=["small", "multipart"])
def test_failed_write_leaves_nothing(store, bucket, size):
    uri = f"s3://{bucket}/never"
    with pytest.raises(Boom), store.open_write(uri) as writer:
        writer.write(generated(size))
        assert not store.exists(uri)  # nothing is visible while writing
        raise Boom
    assert not store.exists(uri)
    assert list(store.list(f"s3://{bucket}/")) == []
    assert store.browse(f"s3://{bucket}/").objects == []


@pytest.mark.parametrize("size", [100, 9 * MiB], ids=["small", "multipart"])
def test_overwrite_is_all_or_nothing(store, bucket, size):
    uri = f"s3://{bucket}/model.bin"
    old = store.write_bytes(uri, b"old content")
    new = generated(size, seed=1)
    with pytest.raises(Boom), store.open_write(uri) as writer:
        writer.write(new)
        assert store.read_bytes(uri) == b"old content"
        raise Boom
    assert store.stat(uri) == old
    assert store.read_bytes(uri) == b"old content"

    with store.open_write(uri) as writer:
        writer.write(new)
        assert store.read_bytes(uri) == b"old content"  # still the old one until the end
    assert store.read_bytes(uri) == new
    assert keys(store.list(f"s3://{bucket}/")) == ["model.bin"]


# Large objects
def test_object_larger_than_a_part(store, bucket):
    uri = f"s3://{bucket}/big.bin"
    data = generated(12 * MiB + 123, seed=2)
    with store.open_write(uri) as writer:
        for offset in range(0, len(data), MiB):
            writer.write(data[offset : offset + MiB])
    assert store.stat(uri).size == len(data)
    assert store.read_bytes(uri) == data
    boundary = 8 * MiB
    assert (
        store.read_bytes(uri, start=boundary - 10, end=boundary + 10)
        == data[boundary - 10 : boundary + 10]
    )
    assert store.read_bytes(uri, start=len(data) - 5) == data[-5:]


def test_one_large_write_call(store, bucket):
    uri = f"s3://{bucket}/one-call.bin"
    data = generated(17 * MiB, seed=3)
    info = store.write_bytes(uri, data)
    assert info.size == len(data)
    assert store.read_bytes(uri) == data


# Copy and compose
def test_copy(store, bucket):
    src = f"s3://{bucket}/src/a.txt"
    store.write_bytes(src, b"payload")
    info = store.copy(src, f"s3://{bucket}/dst/b.txt")
    assert (info.key, info.size) == ("dst/b.txt", 7)
    assert store.read_bytes(f"s3://{bucket}/dst/b.txt") == b"payload"
    assert store.read_bytes(src) == b"payload"
    assert store.copy(src, src).size == 7


def test_copy_to_another_bucket(store, bucket):
    other = bucket + "-other"
    store.create_bucket(other)
    store.write_bytes(f"s3://{bucket}/k", b"x" * 10)
    store.copy(f"s3://{bucket}/k", f"s3://{other}/k2")
    assert store.read_bytes(f"s3://{other}/k2") == b"x" * 10


def test_copy_of_a_missing_object(store, bucket):
    with pytest.raises(ObjectNotFound):
        store.copy(f"s3://{bucket}/missing", f"s3://{bucket}/dst")
    assert not store.exists(f"s3://{bucket}/dst")


def test_compose_small_parts(store, bucket):
    sources = []
    for index, chunk in enumerate([b"alpha,", b"", b"beta,", b"gamma"]):
        sources.append(f"s3://{bucket}/parts/{index}")
        store.write_bytes(sources[-1], chunk)
    info = store.compose(f"s3://{bucket}/joined", sources)
    assert info.size == 16
    assert store.read_bytes(f"s3://{bucket}/joined") == b"alpha,beta,gamma"


def test_compose_large_parts(store, bucket):
    chunks = [generated(5 * MiB, seed=4), generated(6 * MiB, seed=5), b"tail"]
    sources = [f"s3://{bucket}/parts/{index}" for index in range(len(chunks))]
    for uri, chunk in zip(sources, chunks, strict=True):
        store.write_bytes(uri, chunk)
    info = store.compose(f"s3://{bucket}/joined", sources)
    assert info.size == sum(map(len, chunks))
    assert store.read_bytes(f"s3://{bucket}/joined") == b"".join(chunks)


def test_compose_may_append_to_its_destination(store, bucket):
    store.write_bytes(f"s3://{bucket}/log", b"one\n")
    store.write_bytes(f"s3://{bucket}/more", b"two\n")
    store.compose(f"s3://{bucket}/log", [f"s3://{bucket}/log", f"s3://{bucket}/more"])
    assert store.read_bytes(f"s3://{bucket}/log") == b"one\ntwo\n"


def test_compose_checks_its_sources_first(store, bucket):
    store.write_bytes(f"s3://{bucket}/a", b"a")
    with pytest.raises(ObjectNotFound):
        store.compose(f"s3://{bucket}/out", [f"s3://{bucket}/a", f"s3://{bucket}/missing"])
    assert not store.exists(f"s3://{bucket}/out")
    with pytest.raises(ValueError):
        store.compose(f"s3://{bucket}/out", [])


# Deleting
def test_delete(store, bucket):
    uri = f"s3://{bucket}/deep/down/k"
    store.write_bytes(uri, b"1")
    store.delete(uri)
    assert not store.exists(uri)
    store.delete(uri)  # again: not an error
    assert store.browse(f"s3://{bucket}/").prefixes == []  # no empty "folder" left behind


def test_delete_prefix(store, tree):
    assert store.delete_prefix(tree + "/data/") == 2
    assert keys(store.list(tree + "/")) == ["a", "data-2", "database", "other/q"]
    assert store.delete_prefix(tree + "/data/") == 0
    assert store.delete_prefix(tree + "/") == 4
    assert list(store.list(tree)) == []


# Buckets
def test_buckets(store, bucket):
    assert bucket in store.list_buckets()
    store.create_bucket(bucket)  # again: not an error
    store.write_bytes(f"s3://{bucket}/k", b"1")
    with pytest.raises(BucketNotEmpty):
        store.delete_bucket(bucket)
    store.delete(f"s3://{bucket}/k")
    store.delete_bucket(bucket)
    assert bucket not in store.list_buckets()
    with pytest.raises(BucketNotFound):
        store.delete_bucket(bucket)


# Errors
def test_missing_object(store, bucket):
    uri = f"s3://{bucket}/missing"
    assert not store.exists(uri)
    with pytest.raises(ObjectNotFound) as caught:
        store.stat(uri)
    assert caught.value.uri == uri
    with pytest.raises(ObjectNotFound):
        store.read_bytes(uri)
    with pytest.raises(ObjectNotFound):
        store.open_read(uri, start=0, end=0)
    with pytest.raises(ObjectNotFound):
        store.stat(f"s3://{bucket}/")  # a bucket is no object


def test_missing_bucket(store):
    uri = "s3://no-such-bucket-here/k"
    for action in [
        lambda: store.stat(uri),
        lambda: store.read_bytes(uri),
        lambda: list(store.list("s3://no-such-bucket-here/")),
        lambda: store.browse("s3://no-such-bucket-here/"),
        lambda: store.write_bytes(uri, b"1"),
        lambda: store.delete(uri),
        lambda: store.delete_bucket("no-such-bucket-here"),
    ]:
        with pytest.raises(BucketNotFound) as caught:
            action()
        assert caught.value.bucket == "no-such-bucket-here"


@pytest.mark.parametrize(
    "uri",
    ["", "bucket/key", "http://bucket/key", "s3://", "s3:///key", "s3://Bad_Bucket/k", "s3://ab/k"],
)
def test_malformed_uris(store, uri):
    for action in [
        lambda: store.stat(uri),
        lambda: store.read_bytes(uri),
        lambda: store.list(uri),
        lambda: store.browse(uri),
        lambda: store.write_bytes(uri, b"1"),
        lambda: store.delete(uri),
    ]:
        with pytest.raises(InvalidURI):
            action()


@pytest.mark.parametrize("key", ["", "dir/", "a//b", "/a", "../x", "a/../../x", "a/./b", "nul\x00"])
def test_keys_an_object_cannot_be_written_under(store, bucket, key):
    uri = f"s3://{bucket}/{key}"
    with pytest.raises(InvalidURI):
        store.write_bytes(uri, b"1")
    store.write_bytes(f"s3://{bucket}/ok", b"1")
    with pytest.raises(InvalidURI):
        store.copy(f"s3://{bucket}/ok", uri)
    with pytest.raises(InvalidURI):
        store.compose(uri, [f"s3://{bucket}/ok"])
    assert keys(store.list(f"s3://{bucket}/")) == ["ok"]


def test_bucket_names_are_checked(store):
    with pytest.raises(InvalidURI):
        store.create_bucket("Not_A_Bucket")


def test_errors_are_storage_errors():
    assert issubclass(ObjectNotFound, StorageError) and issubclass(ObjectNotFound, KeyError)
    assert issubclass(InvalidURI, StorageError) and issubclass(InvalidURI, ValueError)


# Local files
def test_upload_and_download_files(store, bucket, tmp_path):
    source = tmp_path / "in.bin"
    source.write_bytes(generated(3 * MiB, seed=6))
    info = store.upload_file(str(source), f"s3://{bucket}/files/in.bin")
    assert info.size == 3 * MiB

    target = tmp_path / "out" / "nested" / "copy.bin"
    store.download_file(f"s3://{bucket}/files/in.bin", str(target))
    assert target.read_bytes() == source.read_bytes()
    assert sorted(p.name for p in target.parent.iterdir()) == ["copy.bin"]  # no temp left


@pytest.mark.parametrize("link", [False, True], ids=["copied", "linked"])
def test_download_of_a_missing_object_writes_nothing(store, bucket, tmp_path, link):
    with pytest.raises(ObjectNotFound):
        store.download_file(f"s3://{bucket}/missing", str(tmp_path / "downloads" / "x"), link=link)
    assert not (tmp_path / "downloads").exists()


def test_a_linked_download_keeps_the_object_as_it_was(store, bucket, tmp_path):
    """Readers may take the stored file itself; writing or deleting the object later leaves
    what they took untouched, and what they took never changes the object."""
    uri = f"s3://{bucket}/channel/part.csv"
    store.write_bytes(uri, b"1,2\n")
    first, second = tmp_path / "job-1" / "part.csv", tmp_path / "job-2" / "part.csv"
    store.download_file(uri, str(first), link=True)
    store.write_bytes(uri, b"3,4\n")
    store.download_file(uri, str(second), link=True)
    store.delete(uri)
    assert (first.read_bytes(), second.read_bytes()) == (b"1,2\n", b"3,4\n")
    assert not store.exists(uri)


def test_upload_of_a_missing_file(store, bucket, tmp_path):
    with pytest.raises(FileNotFoundError):
        store.upload_file(str(tmp_path / "missing"), f"s3://{bucket}/k")
    assert not store.exists(f"s3://{bucket}/k")


# Processes
def test_store_survives_pickling(store, bucket):
    store.write_bytes(f"s3://{bucket}/k", b"shipped")
    clone = pickle.loads(pickle.dumps(store))
    assert clone.read_bytes(f"s3://{bucket}/k") == b"shipped"


# Choosing the backend
def test_open_store_picks_the_backend(tmp_path):
    local = open_store(read_settings({"DATA_DIR": str(tmp_path)}))
    assert isinstance(local, LocalObjectStore)
    assert local.root == tmp_path.resolve() / "objects"

    s3 = open_store(
        read_settings(
            {
                "DATA_DIR": str(tmp_path),
                "S3_ENDPOINT_URL": "http://127.0.0.1:9000",
                "S3_ACCESS_KEY": "key",
                "S3_SECRET_KEY": "secret",
            }
        )
    )
    assert isinstance(s3, S3ObjectStore)
    assert s3.endpoint_url == "http://127.0.0.1:9000"


def test_until_available_waits_out_an_outage_and_gives_up_after_its_time() -> None:
    answers = iter([StorageUnavailable("down"), StorageUnavailable("down"), "stored"])

    def call():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert until_available(call, within=5.0, pause=0.01) == "stored"

    def never():
        raise StorageUnavailable("still down")

    started = time.monotonic()
    with pytest.raises(StorageUnavailable, match="still down"):
        until_available(never, within=0.2, pause=0.05)
    assert time.monotonic() - started < 1.0

    def refused():  # not an outage: not made again
        calls.append(1)
        raise StorageError("AccessDenied")

    calls: list[int] = []
    with pytest.raises(StorageError, match="AccessDenied"):
        until_available(refused, within=5.0, pause=0.01)
    assert calls == [1]
