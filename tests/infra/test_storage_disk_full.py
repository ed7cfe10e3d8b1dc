"""A download onto a full disk fails naming the object and the local path, and leaves no partial
file. The disk is made full for this process with a file-size limit (RLIMIT_FSIZE): the write
past it fails with EFBIG, as one on a full file system fails with ENOSPC."""

from __future__ import annotations

import resource
from contextlib import contextmanager

import pytest

from infra.storage.base import LocalDiskFull

MiB = 1024 * 1024


@contextmanager
def file_size_limit(limit: int):
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def test_a_download_that_fills_the_disk_names_what_it_wrote_and_leaves_nothing(
    store, bucket, tmp_path
):
    uri = f"s3://{bucket}/big.csv"
    store.write_bytes(uri, b"1,2,3\n" * (MiB // 3))  # 2 MiB
    target = tmp_path / "work" / "input" / "big.csv"

    with file_size_limit(MiB), pytest.raises(LocalDiskFull) as raised:
        store.download_file(uri, str(target))

    assert f"download {uri} to {target}: File too large" in str(raised.value)
    assert list(target.parent.iterdir()) == []  # no partial or temporary file
