"""Multipart uploads in progress (the S3 API's CreateMultipartUpload ... Complete): each part is
kept as a local file until the upload completes into the store as one object, atomically, through
the store's own streaming writer (so this works over either backend).

An upload is a folder ``<root>/<upload id>/`` holding ``upload.json`` (bucket, key, initiator,
start time) and, per part, ``<number>.part`` with ``<number>.json`` (its MD5 and size) written
after it. A part written again replaces the earlier one, as S3 does.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from infra.storage.base import (
    CHUNK_SIZE,
    ObjectInfo,
    ObjectStore,
    StorageError,
    join_uri,
    new_temp_file,
    parse_object_uri,
)
from infra.storage.local import LocalObjectStore

MAX_PART_NUMBER = 10_000
MIN_PART_SIZE = 5 * 1024 * 1024  # every part but the last, as S3 requires
_UPLOAD_ID = frozenset("0123456789abcdef")


class UploadNotFound(StorageError):
    def __init__(self, upload_id: str) -> None:
        super().__init__(f"no multipart upload with id {upload_id!r} is in progress")
        self.upload_id = upload_id


class InvalidPart(StorageError):
    """A part named at completion is missing, or its ETag is not the one uploaded."""


class InvalidPartOrder(StorageError):
    """The parts named at completion are not in ascending order of part number."""


class PartTooSmall(StorageError):
    """A part other than the last is smaller than ``MIN_PART_SIZE``."""


@dataclass(frozen=True)
class Upload:
    upload_id: str
    bucket: str
    key: str
    initiator: str
    initiated: datetime


@dataclass(frozen=True)
class Part:
    number: int
    etag: str
    size: int
    last_modified: datetime


class MultipartUploads:
    def __init__(self, root: Path, store: ObjectStore) -> None:
        self.root = Path(root)
        self.store = store

    def _dir(self, upload_id: str) -> Path:
        if len(upload_id) != 32 or not set(upload_id) <= _UPLOAD_ID:
            raise UploadNotFound(upload_id)
        return self.root / upload_id

    def create(self, *, bucket: str, key: str, initiator: str) -> Upload:
        parse_object_uri(join_uri(bucket, key))
        upload = Upload(
            upload_id=secrets.token_hex(16),
            bucket=bucket,
            key=key,
            initiator=initiator,
            initiated=datetime.now(UTC),
        )
        folder = self._dir(upload.upload_id)
        folder.mkdir(parents=True)
        record = {
            "bucket": bucket,
            "key": key,
            "initiator": initiator,
            "initiated": upload.initiated.isoformat(),
        }
        (folder / "upload.json").write_text(json.dumps(record))
        return upload

    def get(self, upload_id: str) -> Upload:
        try:
            record = json.loads((self._dir(upload_id) / "upload.json").read_text())
        except (OSError, ValueError):
            raise UploadNotFound(upload_id) from None
        return Upload(
            upload_id=upload_id,
            bucket=record["bucket"],
            key=record["key"],
            initiator=record["initiator"],
            initiated=datetime.fromisoformat(record["initiated"]),
        )

    def list(self, bucket: str) -> Iterator[Upload]:
        """The uploads in progress into ``bucket``."""
        if not self.root.is_dir():
            return
        for entry in sorted(os.scandir(self.root), key=lambda entry: entry.name):
            try:
                upload = self.get(entry.name)
            except UploadNotFound:
                continue
            if upload.bucket == bucket:
                yield upload

    def write_part(self, upload_id: str, number: int, source: BinaryIO) -> Part:
        """Stream ``source`` (anything with ``read``) to the end into part ``number``."""
        if not 1 <= number <= MAX_PART_NUMBER:
            raise ValueError(f"part numbers are 1 to {MAX_PART_NUMBER}")
        self.get(upload_id)
        folder = self._dir(upload_id)
        fd, temp = new_temp_file(folder, ".writing-")
        md5 = hashlib.md5(usedforsecurity=False)
        size = 0
        try:
            with os.fdopen(fd, "wb") as file:
                while chunk := source.read(CHUNK_SIZE):
                    md5.update(chunk)
                    file.write(chunk)
                    size += len(chunk)
            os.replace(temp, folder / f"{number}.part")
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        part = Part(number=number, etag=md5.hexdigest(), size=size, last_modified=_now())
        (folder / f"{number}.json").write_text(json.dumps({"etag": part.etag, "size": size}))
        return part

    def parts(self, upload_id: str) -> list[Part]:
        folder = self._dir(upload_id)
        self.get(upload_id)
        found = []
        for entry in os.scandir(folder):
            stem, _, suffix = entry.name.partition(".")
            if suffix == "json" and stem.isdigit() and (part := self._part(folder, int(stem))):
                found.append(part)
        return sorted(found, key=lambda part: part.number)

    def _part(self, folder: Path, number: int) -> Part | None:
        try:
            record = json.loads((folder / f"{number}.json").read_text())
            stat = (folder / f"{number}.part").stat()
        except (OSError, ValueError):
            return None
        if stat.st_size != record["size"]:
            return None  # rewritten meanwhile; its record follows
        return Part(
            number=number,
            etag=record["etag"],
            size=record["size"],
            last_modified=datetime.fromtimestamp(stat.st_mtime, tz=UTC),
        )

    def complete(
        self, upload_id: str, chosen: list[tuple[int, str]], *, content_type: str
    ) -> ObjectInfo:
        """Join the chosen ``(part number, ETag)`` into the object, then forget the upload.

        InvalidPartOrder, InvalidPart or PartTooSmall before anything is written.
        """
        upload = self.get(upload_id)
        numbers = [number for number, _ in chosen]
        if not chosen or numbers != sorted(set(numbers)):
            raise InvalidPartOrder("the list of parts must be in ascending part-number order")
        stored = {part.number: part for part in self.parts(upload_id)}
        for number, etag in chosen:
            part = stored.get(number)
            if part is None or part.etag != etag.strip('"'):
                raise InvalidPart(f"part {number} was not uploaded, or its ETag is not {etag!r}")
        for number, _ in chosen[:-1]:
            if stored[number].size < MIN_PART_SIZE:
                raise PartTooSmall(
                    f"part {number} is {stored[number].size} bytes: every part but the last "
                    f"must be at least {MIN_PART_SIZE} bytes"
                )
        folder = self._dir(upload_id)
        uri = join_uri(upload.bucket, upload.key)
        paths = [folder / f"{number}.part" for number in numbers]
        if isinstance(self.store, LocalObjectStore):
            with self.store.open_file_write(uri) as target:
                for path in paths:
                    _append_file(path, target.file)
                target.etag = multipart_etag([stored[number].etag for number in numbers])
        else:
            with self.store.open_write(uri, content_type=content_type) as writer:
                for path in paths:
                    with open(path, "rb") as part_file:
                        shutil.copyfileobj(part_file, writer, CHUNK_SIZE)
        shutil.rmtree(folder, ignore_errors=True)
        return self.store.stat(uri)

    def abort(self, upload_id: str) -> None:
        self.get(upload_id)
        shutil.rmtree(self._dir(upload_id), ignore_errors=True)


def multipart_etag(part_etags: list[str]) -> str:
    """S3's ETag of an object made by multipart upload: the MD5 of its parts' MD5s, ``-N``."""
    digests = b"".join(bytes.fromhex(etag) for etag in part_etags)
    return f"{hashlib.md5(digests, usedforsecurity=False).hexdigest()}-{len(part_etags)}"


def _append_file(path: Path, target: BinaryIO) -> None:
    """Append the file to ``target`` in the kernel (``copy_file_range``) where it can."""
    target.flush()
    with open(path, "rb") as source:
        size = os.fstat(source.fileno()).st_size
        offset = 0
        try:
            while offset < size:
                copied = os.copy_file_range(source.fileno(), target.fileno(), size - offset)
                if copied == 0:
                    break
                offset += copied
        except OSError:
            pass  # another file system or an old kernel: the rest is copied below
        if offset < size:
            source.seek(offset)
            shutil.copyfileobj(source, target, CHUNK_SIZE)


def _now() -> datetime:
    return datetime.now(UTC)
