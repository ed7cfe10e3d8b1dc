"""A job's view of the store: the buckets its owner may reach, and no other.

A job names its inputs and outputs in its request, and the services check those buckets when it is
created. But a job also follows URIs that its data names (a ``ManifestFile``'s prefix, an augmented
manifest's ``source-ref``), and its owner can change that data after the job was created. So the
job's flow reads and writes through a :class:`ConfinedStore`: any URI in a bucket outside the set
raises :class:`BucketOutOfReach`, whichever path reached it. It pickles (a frozenset and the inner
store), so a job's Dask tasks carry the same bounds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from typing import BinaryIO

from infra.storage.base import Listing, ObjectInfo, ObjectStore, StorageError, parse_uri


class BucketOutOfReach(StorageError):
    """A job used a URI in a bucket its owner may not reach."""

    def __init__(self, uri: str, bucket: str) -> None:
        super().__init__(
            f"{uri} is in the bucket {bucket!r}, which is not one of this job's owner's buckets"
        )
        self.uri = uri
        self.bucket = bucket


class ConfinedStore(ObjectStore):
    """``inner`` limited to ``buckets``."""

    def __init__(self, inner: ObjectStore, buckets: Iterable[str]) -> None:
        self.inner = inner
        self.buckets = frozenset(buckets)

    def _check(self, uri: str) -> str:
        bucket, _ = parse_uri(uri)
        if bucket not in self.buckets:
            raise BucketOutOfReach(uri, bucket)
        return uri

    def _check_bucket(self, bucket: str) -> None:
        if bucket not in self.buckets:
            raise BucketOutOfReach(f"s3://{bucket}", bucket)

    def list_buckets(self) -> list[str]:
        return [name for name in self.inner.list_buckets() if name in self.buckets]

    def create_bucket(self, bucket: str) -> None:
        self._check_bucket(bucket)
        self.inner.create_bucket(bucket)

    def delete_bucket(self, bucket: str) -> None:
        self._check_bucket(bucket)
        self.inner.delete_bucket(bucket)

    def list(self, prefix_uri: str) -> Iterator[ObjectInfo]:
        return self.inner.list(self._check(prefix_uri))

    def browse(self, prefix_uri: str) -> Listing:
        return self.inner.browse(self._check(prefix_uri))

    def stat(self, uri: str) -> ObjectInfo:
        return self.inner.stat(self._check(uri))

    def exists(self, uri: str) -> bool:
        return self.inner.exists(self._check(uri))

    def open_read(self, uri: str, *, start: int = 0, end: int | None = None) -> BinaryIO:
        return self.inner.open_read(self._check(uri), start=start, end=end)

    def read_bytes(self, uri: str, *, start: int = 0, end: int | None = None) -> bytes:
        return self.inner.read_bytes(self._check(uri), start=start, end=end)

    def open_write(
        self, uri: str, *, content_type: str = "application/octet-stream"
    ) -> AbstractContextManager[BinaryIO]:
        return self.inner.open_write(self._check(uri), content_type=content_type)

    def write_bytes(
        self, uri: str, data: bytes, *, content_type: str = "application/octet-stream"
    ) -> ObjectInfo:
        return self.inner.write_bytes(self._check(uri), data, content_type=content_type)

    def upload_file(self, path: str, uri: str) -> ObjectInfo:
        return self.inner.upload_file(path, self._check(uri))

    def download_file(self, uri: str, path: str, *, link: bool = False) -> None:
        self.inner.download_file(self._check(uri), path, link=link)

    def copy(self, src_uri: str, dst_uri: str) -> ObjectInfo:
        return self.inner.copy(self._check(src_uri), self._check(dst_uri))

    def compose(self, dst_uri: str, src_uris: Iterable[str]) -> ObjectInfo:
        sources = [self._check(uri) for uri in src_uris]
        return self.inner.compose(self._check(dst_uri), sources)

    def delete(self, uri: str) -> None:
        self.inner.delete(self._check(uri))

    def delete_prefix(self, prefix_uri: str) -> int:
        return self.inner.delete_prefix(self._check(prefix_uri))
