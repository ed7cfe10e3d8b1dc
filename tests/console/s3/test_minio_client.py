"""The S3 API with the ``minio`` client (another S3 SDK, its own signing and multipart)."""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import pytest
from minio import Minio
from minio.commonconfig import CopySource
from minio.deleteobjects import DeleteObject
from minio.error import S3Error

pytestmark = pytest.mark.django_db(transaction=True)
MIB = 1024 * 1024


@pytest.fixture
def minio(live_server, access_key) -> Minio:
    return Minio(
        urlsplit(live_server.url).netloc,
        access_key=access_key.access_key_id,
        secret_key=access_key.secret_access_key,
        secure=False,
        region="us-east-1",
    )


def test_minio_client_end_to_end(minio, tmp_path):
    minio.make_bucket("minio-data")
    assert minio.bucket_exists("minio-data") and not minio.bucket_exists("minio-none")
    minio.put_object("minio-data", "small/a.txt", io.BytesIO(b"hello"), length=5)
    big = bytes(range(256)) * (26 * 1024)  # 6.5 MiB: two parts of 5 MiB at most
    minio.put_object("minio-data", "big/b.bin", io.BytesIO(big), length=-1, part_size=5 * MIB)
    assert minio.stat_object("minio-data", "big/b.bin").size == len(big)
    response = minio.get_object("minio-data", "big/b.bin", offset=100, length=50)
    assert response.read() == big[100:150]
    response.close()
    top = sorted(o.object_name for o in minio.list_objects("minio-data"))
    assert top == ["big/", "small/"]
    every = sorted(o.object_name for o in minio.list_objects("minio-data", recursive=True))
    assert every == ["big/b.bin", "small/a.txt"]
    minio.copy_object("minio-data", "copy.txt", CopySource("minio-data", "small/a.txt"))
    minio.fget_object("minio-data", "copy.txt", str(tmp_path / "copy.txt"))
    assert (tmp_path / "copy.txt").read_bytes() == b"hello"
    minio.fput_object("minio-data", "from-file.txt", str(tmp_path / "copy.txt"))
    errors = list(
        minio.remove_objects(
            "minio-data",
            [DeleteObject(name) for name in ["big/b.bin", "small/a.txt", "copy.txt"]],
        )
    )
    assert errors == []
    minio.remove_object("minio-data", "from-file.txt")
    minio.remove_bucket("minio-data")
    with pytest.raises(S3Error) as gone:
        minio.get_object("minio-data", "x")
    assert gone.value.code == "NoSuchBucket"
