"""What only the local-directory backend does: paths, temp files, ETag sidecars."""

from __future__ import annotations

import errno
import hashlib
import os
import re

import pytest

from infra.storage import InvalidURI, StorageError
from infra.storage.local import LocalObjectStore


@pytest.fixture
def store(tmp_path) -> LocalObjectStore:
    store = LocalObjectStore(tmp_path / "objects")
    store.create_bucket("bkt")
    return store


@pytest.mark.parametrize(
    "uri", ["s3://bkt/../outside", "s3://bkt/a/../../outside", "s3://bkt//etc"]
)
def test_keys_cannot_escape_the_root(store, tmp_path, uri):
    (tmp_path / "outside").write_text("secret")
    for action in [
        lambda: store.stat(uri),
        lambda: store.read_bytes(uri),
        lambda: store.list(uri),
        lambda: store.browse(uri),
        lambda: store.write_bytes(uri, b"x"),
        lambda: store.delete(uri),
        lambda: store.delete_prefix(uri),
    ]:
        with pytest.raises(InvalidURI):
            action()
    assert (tmp_path / "outside").read_text() == "secret"


def test_buckets_are_folders_and_keys_are_paths(store):
    store.write_bytes("s3://bkt/a/b/c.txt", b"hi")
    assert (store.root / "bkt" / "a" / "b" / "c.txt").read_bytes() == b"hi"


def test_temporary_files_are_hidden_and_cleaned_up(store):
    temp_dir = store.root / ".tmp"
    with pytest.raises(RuntimeError), store.open_write("s3://bkt/k") as writer:
        writer.write(b"partial")
        assert len(list(temp_dir.iterdir())) == 1
        assert store.list_buckets() == ["bkt"]
        assert list(store.list("s3://bkt/")) == []
        raise RuntimeError
    assert list(temp_dir.iterdir()) == []
    store.write_bytes("s3://bkt/k", b"whole")
    assert list(temp_dir.iterdir()) == []
    assert store.list_buckets() == ["bkt"]


def test_etag_is_the_md5_kept_beside_the_file(store):
    info = store.write_bytes("s3://bkt/k", b"content")
    assert info.etag == hashlib.md5(b"content").hexdigest()
    assert store.copy("s3://bkt/k", "s3://bkt/k2").etag == info.etag


def test_files_put_there_by_hand_get_a_cheap_etag(store):
    path = store.root / "bkt" / "by-hand.csv"
    path.write_bytes(b"1,2\n")
    info = store.stat("s3://bkt/by-hand.csv")
    assert info.size == 4
    assert re.fullmatch(r"[0-9a-f]+-[0-9a-f]+", info.etag)  # size and mtime: no content read
    assert [i.key for i in store.list("s3://bkt/")] == ["by-hand.csv"]


def test_a_file_changed_behind_the_store_gets_a_new_etag(store):
    first = store.write_bytes("s3://bkt/k", b"content")
    (store.root / "bkt" / "k").write_bytes(b"changed by hand")
    second = store.stat("s3://bkt/k")
    assert second.etag != first.etag
    assert second.size == 15


def test_reader_keeps_reading_what_it_opened(store):
    store.write_bytes("s3://bkt/k", b"old old old")
    with store.open_read("s3://bkt/k", start=4) as reader:
        store.write_bytes("s3://bkt/k", b"new")
        assert reader.read() == b"old old"


def test_an_object_and_a_folder_cannot_share_a_name(store):
    store.write_bytes("s3://bkt/a", b"file")
    with pytest.raises(StorageError):
        store.write_bytes("s3://bkt/a/b", b"under")
    store.write_bytes("s3://bkt/d/x", b"under")
    with pytest.raises(StorageError):
        store.write_bytes("s3://bkt/d", b"file")
    assert [i.key for i in store.list("s3://bkt/")] == ["a", "d/x"]
    assert list((store.root / ".tmp").iterdir()) == []


def test_delete_removes_empty_folders(store):
    store.write_bytes("s3://bkt/a/b/c", b"1")
    store.write_bytes("s3://bkt/a/keep", b"1")
    store.delete("s3://bkt/a/b/c")
    assert sorted(os.listdir(store.root / "bkt" / "a")) == ["keep"]
    store.delete("s3://bkt/a/b")  # a folder is no object: nothing happens
    store.delete("s3://bkt/a/")


def test_empty_folders_are_not_prefixes(store):
    (store.root / "bkt" / "empty" / "deeper").mkdir(parents=True)
    store.write_bytes("s3://bkt/full/x", b"1")
    assert store.browse("s3://bkt/").prefixes == ["s3://bkt/full/"]
    assert [i.key for i in store.list("s3://bkt/")] == ["full/x"]


def test_delete_bucket_removes_its_sidecars(store):
    store.write_bytes("s3://bkt/k", b"1")
    store.delete("s3://bkt/k")
    store.delete_bucket("bkt")
    assert not (store.root / ".meta" / "bkt").exists()
    assert store.list_buckets() == []


def test_a_linked_download_is_the_stored_file_itself(store, tmp_path):
    store.write_bytes("s3://bkt/big", b"x" * 1000)
    target = tmp_path / "input" / "big"
    store.download_file("s3://bkt/big", str(target), link=True)
    assert target.stat().st_ino == (store.root / "bkt" / "big").stat().st_ino
    assert store.stat("s3://bkt/big").etag == hashlib.md5(b"x" * 1000).hexdigest()


def test_a_linked_download_that_cannot_link_copies(store, tmp_path, monkeypatch):
    def refuse(source, target):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    store.write_bytes("s3://bkt/k", b"contents")
    monkeypatch.setattr(os, "link", refuse)
    target = tmp_path / "elsewhere" / "k"
    store.download_file("s3://bkt/k", str(target), link=True)
    assert target.read_bytes() == b"contents"
    assert target.stat().st_ino != (store.root / "bkt" / "k").stat().st_ino


def test_files_get_the_usual_permissions(store, tmp_path):
    umask = os.umask(0)
    os.umask(umask)
    store.write_bytes("s3://bkt/k", b"1")
    store.download_file("s3://bkt/k", str(tmp_path / "down" / "k"))
    for path in [store.root / "bkt" / "k", tmp_path / "down" / "k"]:
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask
