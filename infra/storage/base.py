"""The object-storage interface: ``s3://bucket/key`` URIs over any backend.

Every backend implements :class:`ObjectStore`. Writes are atomic: a reader sees either the whole
new object or nothing (backends write to a temporary key or file and publish it at the end).
"""

from __future__ import annotations

import errno
import io
import os
import re
import secrets
import shutil
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, TypeVar

S3_URI = re.compile(r"^s3://(?P<bucket>[^/]+)/?(?P<key>.*)$", re.DOTALL)
# Bucket names as S3 accepts them (the common, DNS-compatible subset).
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
BUCKET_RULE = "bucket names are 3-63 characters: lowercase letters, digits, '.' and '-'"
MAX_KEY_BYTES = 1024  # S3's limit on a key, in UTF-8 bytes
CHUNK_SIZE = 1024 * 1024  # how much a streaming copy holds in memory at once


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


class LocalDiskFull(StorageError):
    """A download found no room on this machine's disk: what it was writing, and where."""

    def __init__(self, uri: str, path: Path, error: OSError) -> None:
        super().__init__(
            f"no room on the local disk to download {uri} to {path}: {error.strerror} "
            f"(errno {error.errno})"
        )
        self.uri = uri
        self.path = path


class StorageUnavailable(StorageError):
    """The storage server did not answer (down, restarting, unreachable) after the client's own
    retries: nothing is wrong with the request, it may succeed later."""


def until_available(call: Callable[[], T], *, within: float, pause: float = 1.0) -> T:
    """``call()``, made again while it raises :class:`StorageUnavailable` for up to ``within``
    seconds (a storage server restarting); past that its error is raised. ``call`` must be safe
    to repeat."""
    deadline = time.monotonic() + within
    while True:
        try:
            return call()
        except StorageUnavailable:
            if time.monotonic() + pause > deadline:
                raise
            time.sleep(pause)


T = TypeVar("T")

# Write errors that mean the disk (or the process's share of it) is full.
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


class BucketNotEmpty(StorageError):
    def __init__(self, bucket: str) -> None:
        super().__init__(f"bucket {bucket!r} is not empty")
        self.bucket = bucket


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
    """Split ``s3://bucket/key`` into ``(bucket, key)``; the key may be empty.

    Raises InvalidURI when the string is not an ``s3://`` URI or the bucket name is not valid.
    """
    match = S3_URI.match(uri) if isinstance(uri, str) else None
    if not match:
        raise InvalidURI(str(uri))
    if not BUCKET_NAME.match(match["bucket"]):
        raise InvalidURI(uri, BUCKET_RULE)
    return match["bucket"], match["key"]


def parse_object_uri(uri: str) -> tuple[str, str]:
    """Split a URI that names one object to write: the key must be a portable object key.

    Portable keys are what every backend can hold: not empty, at most 1024 UTF-8 bytes, not
    starting or ending with ``/``, no empty, ``.`` or ``..`` segment, no NUL character.
    """
    bucket, key = parse_uri(uri)
    check_key_path(uri, key)
    if not key or key.endswith("/"):
        raise InvalidURI(uri, "must name an object: s3://bucket/key, the key not ending in '/'")
    return bucket, key


def check_key_path(uri: str, key: str) -> None:
    """Raise InvalidURI unless every ``/``-separated segment of the key (or key prefix) is plain.

    A trailing ``/`` is allowed (a prefix); the last segment may be partial.
    """
    if len(key.encode("utf-8", "surrogateescape")) > MAX_KEY_BYTES:
        raise InvalidURI(uri, f"has a key longer than {MAX_KEY_BYTES} bytes")
    if "\x00" in key:
        raise InvalidURI(uri, "has a NUL character in its key")
    segments = key.removesuffix("/").split("/") if key else []
    if any(segment in ("", ".", "..") for segment in segments):
        raise InvalidURI(uri, "has an empty, '.' or '..' segment in its key")


def join_uri(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{key}"


class ObjectWriter(io.BufferedIOBase):
    """What ``open_write`` yields: write-only, not seekable; ``tell()`` is the bytes written.

    ``close()`` only stops further writes: the object is published when the ``with`` block exits
    without an error, and discarded otherwise.
    """

    def __init__(self) -> None:
        super().__init__()
        self._written = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # bytes-like
        if self.closed:
            raise ValueError("write to a closed object writer")
        view = memoryview(data).cast("B")
        if view.nbytes:
            self._write(view)
            self._written += view.nbytes
        return view.nbytes

    def tell(self) -> int:
        return self._written

    @abstractmethod
    def _write(self, data: memoryview) -> None: ...


class _LimitedRaw(io.RawIOBase):
    """A raw reader over ``stream`` that stops after ``limit`` bytes and runs ``on_close``."""

    def __init__(self, stream, limit: int | None, on_close: Callable[[], None]) -> None:
        super().__init__()
        self._stream = stream
        self._remaining = limit
        self._on_close = on_close

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._remaining == 0:
            return 0
        view = memoryview(buffer).cast("B")
        if self._remaining is not None and self._remaining < view.nbytes:
            view = view[: self._remaining]
        count = self._stream.readinto(view) or 0
        if self._remaining is not None:
            self._remaining -= count
        return count

    def close(self) -> None:
        if not self.closed:
            try:
                self._on_close()
            finally:
                super().close()


def bounded_reader(
    stream, *, limit: int | None = None, on_close: Callable[[], None] | None = None
) -> BinaryIO:
    """A buffered reader over a raw stream (anything with ``readinto``), at most ``limit`` bytes.

    Closing it runs ``on_close`` (by default ``stream.close()``).
    """
    raw = _LimitedRaw(stream, limit, on_close or stream.close)
    return io.BufferedReader(raw, buffer_size=CHUNK_SIZE)  # type: ignore[return-value]


def new_temp_file(directory: Path, prefix: str, suffix: str = "") -> tuple[int, str]:
    """Create a new file with a random name in ``directory``; returns its descriptor and path.

    Unlike ``mkstemp``'s 0600, the file gets the usual permissions (0666 less the umask): it is
    about to become an object or a user's download.
    """
    directory.mkdir(parents=True, exist_ok=True)
    while True:
        path = directory / f"{prefix}{secrets.token_hex(8)}{suffix}"
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), str(path)
        except FileExistsError:
            continue


def check_range(start: int, end: int | None) -> None:
    if start < 0 or (end is not None and end < start):
        raise ValueError(f"invalid byte range [{start}, {end}): need 0 <= start <= end")


class ObjectStore(ABC):
    """What every backend offers. Keys are ``/``-separated; URIs are ``s3://bucket/key``.

    Errors: a malformed URI raises InvalidURI, a missing bucket BucketNotFound, a missing object
    ObjectNotFound (all StorageError). Objects are written under portable keys only (see
    :func:`parse_object_uri`).
    """

    # Buckets
    @abstractmethod
    def list_buckets(self) -> list[str]: ...

    @abstractmethod
    def create_bucket(self, bucket: str) -> None:
        """Create the bucket; creating an existing one is not an error."""

    @abstractmethod
    def delete_bucket(self, bucket: str) -> None:
        """Delete an empty bucket. Raises BucketNotFound, BucketNotEmpty."""

    # Reading
    @abstractmethod
    def list(self, prefix_uri: str) -> Iterator[ObjectInfo]:
        """Every object whose key starts with the prefix, recursively, in key order.

        The prefix is a plain string prefix: ``s3://b/da`` matches ``data/x``.
        """

    @abstractmethod
    def browse(self, prefix_uri: str) -> Listing:
        """One level under the prefix (delimiter ``/``): sub-prefixes and objects."""

    @abstractmethod
    def stat(self, uri: str) -> ObjectInfo:
        """Raises ObjectNotFound (BucketNotFound when the bucket is missing)."""

    def exists(self, uri: str) -> bool:
        try:
            self.stat(uri)
        except ObjectNotFound:
            return False
        return True

    @abstractmethod
    def open_read(self, uri: str, *, start: int = 0, end: int | None = None) -> BinaryIO:
        """A streaming reader over bytes ``[start, end)`` (``end=None``: to the end). Close it.

        A range past the end of the object is cut at the end (possibly to nothing).
        """

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

    def upload_file(self, path: str, uri: str) -> ObjectInfo:
        """Stream a local file into an object."""
        with open(path, "rb") as source, self.open_write(uri) as writer:
            shutil.copyfileobj(source, writer, CHUNK_SIZE)
        return self.stat(uri)

    def download_file(self, uri: str, path: str, *, link: bool = False) -> None:
        """Stream an object into a local file, written atomically; parent folders are created.

        ``link``: the caller only ever reads the file, so a store that keeps its objects as local
        files may hard-link the object instead of copying it (see ``LocalObjectStore``).
        """
        target = Path(path)
        with self.open_read(uri) as reader:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = new_temp_file(target.parent, f".{target.name}.", ".part")
            try:
                with os.fdopen(fd, "wb") as local:
                    shutil.copyfileobj(reader, local, CHUNK_SIZE)
                os.replace(temp, target)
            except BaseException as error:
                Path(temp).unlink(missing_ok=True)
                if isinstance(error, OSError) and error.errno in DISK_FULL_ERRNOS:
                    # The job's failure then names the object and the disk, not a bare errno.
                    raise LocalDiskFull(uri, target, error) from error
                raise

    # Server-side
    @abstractmethod
    def copy(self, src_uri: str, dst_uri: str) -> ObjectInfo: ...

    @abstractmethod
    def compose(self, dst_uri: str, src_uris: Iterable[str]) -> ObjectInfo:
        """Concatenate the sources, in order, into one new object (atomically).

        Done server-side where the backend can (S3 multipart copy when every part but the last is
        at least 5 MiB); otherwise streamed through this process in bounded memory. Raises
        ValueError when there is no source, ObjectNotFound (before writing) when one is missing.
        """

    def _concatenate(self, dst_uri: str, src_uris: list[str]) -> ObjectInfo:
        """Compose by streaming every source through this process, one chunk at a time."""
        with self.open_write(dst_uri) as writer:
            for src_uri in src_uris:
                with self.open_read(src_uri) as reader:
                    shutil.copyfileobj(reader, writer, CHUNK_SIZE)
        return self.stat(dst_uri)

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
