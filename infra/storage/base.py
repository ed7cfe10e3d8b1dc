"""The object-storage interface: ``s3://bucket/key`` URIs over any backend.

Every backend implements :class:`ObjectStore`. Writes are atomic: a reader sees either the whole
new object or nothing (backends write to a temporary key or file and publish it at the end).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

S3_URI = re.compile(r"^s3://(?P<bucket>[^/]+)/?(?P<key>.*)$")
# Bucket names as S3 accepts them (the common, DNS-compatible subset).
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class StorageError(Exception):
    """Base of every storage error."""


class InvalidURI(StorageError, ValueError):
    def __init__(self, uri: str, rule: str = "must look like s3://bucket/key") -> None:
        super().__init__(f"{uri!r} {rule}")
        self.uri = uri
        self.rule = rule


class ObjectNotFound(StorageError, KeyError):
    def __init__(self, uri: str) -> None:
        super().__init__(uri)
        self.uri = uri

    def __str__(self) -> str:
        return f"no object at {self.uri}"


class BucketNotFound(StorageError, KeyError):
    def __init__(self, bucket: str) -> None:
        super().__init__(bucket)
        self.bucket = bucket

    def __str__(self) -> str:
        return f"no bucket named {self.bucket!r}"


@dataclass(frozen=True)
class ObjectInfo:
    bucket: str
    key: str
    size: int
    etag: str
    last_modified: datetime

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


@dataclass(frozen=True)
class Listing:
    """One level of a bucket, as an object browser shows it."""

    prefixes: list[str]  # full URIs of the "folders" directly under the prefix, ending in "/"
    objects: list[ObjectInfo]  # the objects directly under the prefix


def parse_uri(uri: str) -> tuple[str, str]:
    """Split ``s3://bucket/key`` into ``(bucket, key)``; the key may be empty."""
    match = S3_URI.match(uri)
    if not match:
        raise InvalidURI(uri)
    return match["bucket"], match["key"]


def join_uri(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{key}"


class ObjectStore(ABC):
    """What every backend offers. Keys are ``/``-separated; URIs are ``s3://bucket/key``."""

    # Buckets
    @abstractmethod
    def list_buckets(self) -> list[str]: ...

    @abstractmethod
    def create_bucket(self, bucket: str) -> None:
        """Create the bucket; creating an existing one is not an error."""

    @abstractmethod
    def delete_bucket(self, bucket: str) -> None:
        """Delete an empty bucket."""

    # Reading
    @abstractmethod
    def list(self, prefix_uri: str) -> Iterator[ObjectInfo]:
        """Every object whose key starts with the prefix, recursively, in key order."""

    @abstractmethod
    def browse(self, prefix_uri: str) -> Listing:
        """One level under the prefix (delimiter ``/``): sub-prefixes and objects."""

    @abstractmethod
    def stat(self, uri: str) -> ObjectInfo:
        """Raises ObjectNotFound."""

    def exists(self, uri: str) -> bool:
        try:
            self.stat(uri)
        except ObjectNotFound:
            return False
        return True

    @abstractmethod
    def open_read(self, uri: str, *, start: int = 0, end: int | None = None) -> BinaryIO:
        """A streaming reader over bytes ``[start, end)`` (``end=None``: to the end). Close it."""

    def read_bytes(self, uri: str, *, start: int = 0, end: int | None = None) -> bytes:
        with self.open_read(uri, start=start, end=end) as reader:
            return reader.read()

    # Writing (atomic)
    @abstractmethod
    def open_write(
        self, uri: str, *, content_type: str = "application/octet-stream"
    ) -> AbstractContextManager[BinaryIO]:
        """A writer; the object appears whole when the block exits, and not at all on error.

        Large objects are uploaded as they are written (multipart), so memory stays bounded.
        """

    def write_bytes(
        self, uri: str, data: bytes, *, content_type: str = "application/octet-stream"
    ) -> ObjectInfo:
        with self.open_write(uri, content_type=content_type) as writer:
            writer.write(data)
        return self.stat(uri)

    @abstractmethod
    def upload_file(self, path: str, uri: str) -> ObjectInfo: ...

    @abstractmethod
    def download_file(self, uri: str, path: str) -> None: ...

    # Server-side
    @abstractmethod
    def copy(self, src_uri: str, dst_uri: str) -> ObjectInfo: ...

    @abstractmethod
    def compose(self, dst_uri: str, src_uris: Iterable[str]) -> ObjectInfo:
        """Concatenate the sources, in order, into one new object (atomically).

        Done server-side where the backend can (S3 multipart copy when every part but the last is
        at least 5 MiB); otherwise streamed through this process in bounded memory.
        """

    @abstractmethod
    def delete(self, uri: str) -> None:
        """Delete one object; deleting a missing object is not an error."""

    def delete_prefix(self, prefix_uri: str) -> int:
        """Delete every object under the prefix; returns how many were deleted."""
        count = 0
        for info in list(self.list(prefix_uri)):
            self.delete(info.uri)
            count += 1
        return count
