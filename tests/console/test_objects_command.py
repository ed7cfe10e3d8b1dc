"""``manage.py objects`` against the local backend (the suite's scratch DATA_DIR)."""

from __future__ import annotations

import io
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from infra.storage import get_store
from infra.storage.local import LocalObjectStore


def objects(*args: str) -> str:
    out = io.StringIO()
    call_command("objects", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def bucket() -> str:
    return f"cmd-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "dataset"
    (root / "train").mkdir(parents=True)
    (root / "train" / "a.csv").write_bytes(b"1,2\n" * 10)
    (root / "train" / "b.csv").write_bytes(b"3,4\n")
    (root / "meta.json").write_bytes(b"{}")
    return root


def test_the_store_is_the_local_backend():
    assert isinstance(get_store(), LocalObjectStore)


def test_mb_and_ls_buckets(bucket):
    assert f"make_bucket: s3://{bucket}/" in objects("mb", bucket)
    objects("mb", f"s3://{bucket}")  # again, as a URI: fine
    assert f"s3://{bucket}/" in objects("ls").splitlines()


def test_cp_folder_up_creates_the_bucket(bucket, folder):
    out = objects("cp", str(folder), f"s3://{bucket}/data/")
    store = get_store()
    assert [i.key for i in store.list(f"s3://{bucket}/")] == [
        "data/meta.json",
        "data/train/a.csv",
        "data/train/b.csv",
    ]
    assert store.read_bytes(f"s3://{bucket}/data/train/a.csv") == b"1,2\n" * 10
    assert f"upload: {folder / 'train' / 'a.csv'} -> s3://{bucket}/data/train/a.csv" in out
    assert out.splitlines()[-1] == "3 files, 46 B (46 bytes)"


def test_cp_file_up_to_a_key_or_a_prefix(bucket, folder):
    objects("cp", str(folder / "meta.json"), f"s3://{bucket}/config/settings.json")
    objects("cp", str(folder / "meta.json"), f"s3://{bucket}/config/")
    assert [i.key for i in get_store().list(f"s3://{bucket}/")] == [
        "config/meta.json",
        "config/settings.json",
    ]


def test_cp_down_an_object_and_a_prefix(bucket, folder, tmp_path):
    objects("cp", str(folder), f"s3://{bucket}/data")
    objects("cp", f"s3://{bucket}/data/meta.json", str(tmp_path / "one.json"))
    assert (tmp_path / "one.json").read_bytes() == b"{}"

    (tmp_path / "into").mkdir()
    objects("cp", f"s3://{bucket}/data/meta.json", str(tmp_path / "into"))
    assert (tmp_path / "into" / "meta.json").read_bytes() == b"{}"

    out = objects("cp", f"s3://{bucket}/data", str(tmp_path / "copy"))
    assert (tmp_path / "copy" / "train" / "a.csv").read_bytes() == b"1,2\n" * 10
    assert (tmp_path / "copy" / "meta.json").exists()
    assert out.splitlines()[-1] == "3 files, 46 B (46 bytes)"


def test_cp_between_buckets(bucket, folder):
    objects("cp", str(folder), f"s3://{bucket}/data/")
    objects("cp", f"s3://{bucket}/data/train/", f"s3://{bucket}-2/copied/")
    assert [i.key for i in get_store().list(f"s3://{bucket}-2/")] == [
        "copied/a.csv",
        "copied/b.csv",
    ]


def test_ls_one_level_and_recursive(bucket, folder):
    objects("cp", str(folder), f"s3://{bucket}/data/")
    lines = objects("ls", f"s3://{bucket}/data/").splitlines()
    assert lines[0].split() == ["PRE", f"s3://{bucket}/data/train/"]
    assert lines[1].endswith(f"2 s3://{bucket}/data/meta.json")
    everything = objects("ls", "--recursive", f"s3://{bucket}/").splitlines()
    assert len(everything) == 4 and everything[-1] == "3 objects, 46 B"


def test_rm_object_and_prefix(bucket, folder):
    objects("cp", str(folder), f"s3://{bucket}/data/")
    objects("cp", str(folder / "meta.json"), f"s3://{bucket}/database.json")
    assert "delete: " in objects("rm", f"s3://{bucket}/data/meta.json")
    with pytest.raises(CommandError, match="--recursive"):
        objects("rm", f"s3://{bucket}/data")
    # "data" is taken as the folder data/: database.json stays.
    assert "deleted 2 objects" in objects("rm", "--recursive", f"s3://{bucket}/data")
    assert [i.key for i in get_store().list(f"s3://{bucket}/")] == ["database.json"]


def test_errors_are_command_errors(bucket, tmp_path):
    with pytest.raises(CommandError, match="no bucket"):
        objects("ls", f"s3://{bucket}/")
    with pytest.raises(CommandError):
        objects("ls", "not-a-uri")
    with pytest.raises(CommandError, match="no such file"):
        objects("cp", str(tmp_path / "missing"), f"s3://{bucket}/x")
    objects("mb", bucket)
    with pytest.raises(CommandError, match="no object"):
        objects("cp", f"s3://{bucket}/nothing", str(tmp_path / "x"))
    with pytest.raises(CommandError, match="s3://"):
        objects("cp", str(tmp_path), str(tmp_path / "x"))
    with pytest.raises(CommandError):
        objects("mb", "Bad_Name")
