"""A job's view of the store: its owner's buckets work as the store does; any other bucket,
however the URI was reached, raises BucketOutOfReach and touches nothing."""

from __future__ import annotations

import pickle

import pytest

from infra.storage.confined import BucketOutOfReach, ConfinedStore


@pytest.fixture
def confined(local_store):
    for bucket in ("mine", "theirs"):
        local_store.create_bucket(bucket)
    local_store.write_bytes("s3://theirs/secret.csv", b"1,2,3\n")
    return ConfinedStore(local_store, ["mine"])


def test_the_owners_buckets_read_and_write_as_the_store(confined, local_store, tmp_path):
    confined.write_bytes("s3://mine/a.csv", b"a\n")
    confined.copy("s3://mine/a.csv", "s3://mine/b.csv")
    confined.compose("s3://mine/ab.csv", ["s3://mine/a.csv", "s3://mine/b.csv"])
    confined.download_file("s3://mine/ab.csv", str(tmp_path / "ab.csv"))

    assert (tmp_path / "ab.csv").read_bytes() == b"a\na\n"
    assert [info.uri for info in confined.list("s3://mine/")] == [
        "s3://mine/a.csv",
        "s3://mine/ab.csv",
        "s3://mine/b.csv",
    ]
    assert confined.list_buckets() == ["mine"]
    assert local_store.read_bytes("s3://mine/b.csv") == b"a\n"


@pytest.mark.parametrize(
    "attempt",
    [
        lambda store, _: store.read_bytes("s3://theirs/secret.csv"),
        lambda store, _: store.open_read("s3://theirs/secret.csv"),
        lambda store, _: store.stat("s3://theirs/secret.csv"),
        lambda store, _: store.exists("s3://theirs/secret.csv"),
        lambda store, _: list(store.list("s3://theirs/")),
        lambda store, _: store.browse("s3://theirs/"),
        lambda store, path: store.download_file("s3://theirs/secret.csv", str(path / "x")),
        lambda store, _: store.copy("s3://theirs/secret.csv", "s3://mine/stolen.csv"),
        lambda store, _: store.compose("s3://mine/stolen.csv", ["s3://theirs/secret.csv"]),
        lambda store, _: store.write_bytes("s3://theirs/secret.csv", b"overwritten"),
        lambda store, path: store.upload_file(__file__, "s3://theirs/planted.py"),
        lambda store, _: store.delete("s3://theirs/secret.csv"),
        lambda store, _: store.delete_prefix("s3://theirs/"),
        lambda store, _: store.delete_bucket("theirs"),
    ],
)
def test_any_other_bucket_is_out_of_reach(confined, local_store, tmp_path, attempt):
    with pytest.raises(BucketOutOfReach) as refused:
        attempt(confined, tmp_path)

    assert "'theirs', which is not one of this job's owner's buckets" in str(refused.value)
    assert local_store.read_bytes("s3://theirs/secret.csv") == b"1,2,3\n"
    assert [info.uri for info in local_store.list("s3://theirs/")] == ["s3://theirs/secret.csv"]
    assert not local_store.exists("s3://mine/stolen.csv")


def test_a_jobs_dask_tasks_carry_the_same_bounds(confined):
    copied = pickle.loads(pickle.dumps(confined))

    with pytest.raises(BucketOutOfReach):
        copied.read_bytes("s3://theirs/secret.csv")
