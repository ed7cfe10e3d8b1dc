"""The local-directory backend: ``s3://bucket/key`` is the file ``<root>/bucket/key``.

Writes go to a temporary file under ``<root>/.tmp/`` and are published with ``os.replace``, so a
reader sees the old file or the whole new one. ETags are the MD5 of the content, computed while
writing and kept in a sidecar under ``<root>/.meta/`` together with the file's size, mtime and
inode. A file whose sidecar does not match (put there by hand, or changed behind the store's back)
gets a cheap ETag ``<mtime_ns hex>-<size hex>`` instead: it still changes whenever the file does,
but it is not an MD5. ``stat`` never reads the content.

Limits of a directory tree: ``a`` and ``a/b`` cannot both be objects, and keys must be portable
(see ``parse_object_uri``). Symbolic links inside the root are followed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from infra.storage.base import (
    BUCKET_NAME,
    BUCKET_RULE,
    BucketNotEmpty,
    BucketNotFound,
    InvalidURI,
    Listing,
    ObjectInfo,
    ObjectNotFound,
    ObjectStore,
    ObjectWriter,
    StorageError,
    bounded_reader,
    check_key_path,
    check_range,
    join_uri,
    new_temp_file,
    parse_object_uri,
    parse_uri,
)

TEMP_DIR = ".tmp"
META_DIR = ".meta"


class _FileWriter(ObjectWriter):
    """Writes to the temporary file and hashes what passes through."""

    def __init__(self, file: BinaryIO) -> None:
        super().__init__()
        self.file = file
        self.md5 = hashlib.md5(usedforsecurity=False)

    def _write(self, data: memoryview) -> None:
        self.md5.update(data)
        self.file.write(data)


@dataclass
class FileTarget:
    """What ``LocalObjectStore.open_file_write`` yields."""

    file: BinaryIO
    etag: str | None = None


class LocalObjectStore(ObjectStore):
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"LocalObjectStore({str(self.root)!r})"

    # Paths
    def _bucket_dir(self, bucket: str) -> Path:
        path = self.root / bucket
        if not path.is_dir():
            raise BucketNotFound(bucket)
        return path

    def _temp_file(self) -> tuple[int, str]:
        return new_temp_file(self.root / TEMP_DIR, "write-")

    def _meta_path(self, bucket: str, key: str) -> Path:
        digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()
        return self.root / META_DIR / bucket / digest[:2] / f"{digest}.json"

    def _locate(self, uri: str) -> tuple[str, str, Path]:
        """The bucket, key and file of an object URI, for reading."""
        bucket, key = parse_uri(uri)
        check_key_path(uri, key)
        bucket_dir = self._bucket_dir(bucket)
        if not key or key.endswith("/"):
            raise ObjectNotFound(uri)  # a prefix, never a file here
        return bucket, key, bucket_dir.joinpath(*key.split("/"))

    def _locate_prefix(self, prefix_uri: str) -> tuple[str, Path, str, str]:
        """For a prefix: the bucket, the deepest directory it names, that directory's key prefix
        (``""`` or ending in ``/``), and the start that names inside it must have."""
        bucket, prefix = parse_uri(prefix_uri)
        check_key_path(prefix_uri, prefix)
        bucket_dir = self._bucket_dir(bucket)
        dir_key, slash, name_start = prefix.rpartition("/")
        directory = bucket_dir.joinpath(*dir_key.split("/")) if slash else bucket_dir
        return bucket, directory, dir_key + slash, name_start

    # Buckets
    def list_buckets(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            entry.name
            for entry in os.scandir(self.root)
            if entry.is_dir() and BUCKET_NAME.match(entry.name)
        )

    def create_bucket(self, bucket: str) -> None:
        if not BUCKET_NAME.match(bucket):
            raise InvalidURI(bucket, BUCKET_RULE)
        (self.root / bucket).mkdir(parents=True, exist_ok=True)

    def delete_bucket(self, bucket: str) -> None:
        if not BUCKET_NAME.match(bucket):
            raise InvalidURI(bucket, BUCKET_RULE)
        bucket_dir = self._bucket_dir(bucket)
        if _has_file(bucket_dir):
            raise BucketNotEmpty(bucket)
        shutil.rmtree(bucket_dir)
        shutil.rmtree(self.root / META_DIR / bucket, ignore_errors=True)

    # Reading
    def stat(self, uri: str) -> ObjectInfo:
        bucket, key, path = self._locate(uri)
        try:
            stat = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            raise ObjectNotFound(uri) from None
        if not path.is_file():
            raise ObjectNotFound(uri)
        return self._info(bucket, key, stat)

    def _info(self, bucket: str, key: str, stat: os.stat_result) -> ObjectInfo:
        return ObjectInfo(
            bucket=bucket,
            key=key,
            size=stat.st_size,
            etag=self._etag(bucket, key, stat),
            last_modified=datetime.fromtimestamp(stat.st_mtime_ns / 1e9, tz=UTC),
        )

    def _etag(self, bucket: str, key: str, stat: os.stat_result) -> str:
        try:
            meta = json.loads(self._meta_path(bucket, key).read_text())
        except (OSError, ValueError):
            meta = {}
        if meta.get("file") == _file_identity(stat) and meta.get("key") == key:
            return meta["md5"]
        return f"{stat.st_mtime_ns:x}-{stat.st_size:x}"

    def _entry_info(self, bucket: str, key: str, entry: os.DirEntry) -> ObjectInfo | None:
        try:
            return self._info(bucket, key, entry.stat())
        except FileNotFoundError:
            return None  # deleted since the folder was read, or a dangling link

    def list(self, prefix_uri: str) -> Iterator[ObjectInfo]:
        bucket, directory, dir_key, name_start = self._locate_prefix(prefix_uri)
        return self._walk(bucket, directory, dir_key, name_start)

    def _walk(
        self, bucket: str, directory: Path | str, dir_key: str, name_start: str = ""
    ) -> Iterator[ObjectInfo]:
        # A folder sorts as its name plus "/", which is where its keys fall in key order.
        for entry, is_dir in _sorted_entries(directory, name_start):
            if is_dir:
                yield from self._walk(bucket, entry.path, f"{dir_key}{entry.name}/")
            elif info := self._entry_info(bucket, dir_key + entry.name, entry):
                yield info

    def browse(self, prefix_uri: str) -> Listing:
        bucket, directory, dir_key, name_start = self._locate_prefix(prefix_uri)
        prefixes: list[str] = []
        objects: list[ObjectInfo] = []
        for entry, is_dir in _sorted_entries(directory, name_start):
            if not is_dir:
                if info := self._entry_info(bucket, dir_key + entry.name, entry):
                    objects.append(info)
            elif _has_file(entry.path):  # S3 has no empty folders
                prefixes.append(join_uri(bucket, f"{dir_key}{entry.name}/"))
        return Listing(prefixes=prefixes, objects=objects)

    def open_read(self, uri: str, *, start: int = 0, end: int | None = None) -> BinaryIO:
        check_range(start, end)
        _, _, path = self._locate(uri)
        try:
            file = open(path, "rb", buffering=0)  # noqa: SIM115 - the reader closes it
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise ObjectNotFound(uri) from None
        try:
            file.seek(start)
        except BaseException:
            file.close()
            raise
        return bounded_reader(file, limit=None if end is None else end - start)

    def download_file(self, uri: str, path: str, *, link: bool = False) -> None:
        """With ``link``, the local file is a hard link to the stored one, which costs no copy
        and no disk space. An object is only ever replaced whole (a new file renamed over it)
        or unlinked, never edited in place, so the link keeps the contents it had when linked.
        Where linking fails (another file system, say), the object is copied.
        """
        if link:
            _, _, source = self._locate(uri)
            if source.is_file():
                target = Path(path)
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(source, target)
                    return
                except OSError:
                    pass  # copied below; a missing object is reported there
        super().download_file(uri, path)

    # Writing
    @contextmanager
    def open_write(
        self, uri: str, *, content_type: str = "application/octet-stream"
    ) -> Iterator[BinaryIO]:
        # content_type is not kept: a directory has nowhere natural to keep it.
        bucket, key = parse_object_uri(uri)
        path = self._bucket_dir(bucket).joinpath(*key.split("/"))
        fd, temp = self._temp_file()
        try:
            with os.fdopen(fd, "wb") as file, _FileWriter(file) as writer:
                yield writer  # type: ignore[misc]
                file.flush()
                os.fsync(file.fileno())
            self._publish(uri, temp, path, bucket, key, writer.md5.hexdigest())
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    @contextmanager
    def open_file_write(self, uri: str) -> Iterator[FileTarget]:
        """A plain file on the store's own file system that becomes the object when the block
        exits without an error, for a writer that fills it by the kernel's means (a
        ``copy_file_range`` of parts) and knows the object's ETag: it sets ``etag`` on the
        target (else the object gets the cheap ETag of a file without a sidecar)."""
        bucket, key = parse_object_uri(uri)
        path = self._bucket_dir(bucket).joinpath(*key.split("/"))
        fd, temp = self._temp_file()
        try:
            with os.fdopen(fd, "wb") as file:
                target = FileTarget(file=file)
                yield target
                file.flush()
                os.fsync(file.fileno())
            stat = os.stat(temp)
            etag = target.etag or f"{stat.st_mtime_ns:x}-{stat.st_size:x}"
            self._publish(uri, temp, path, bucket, key, etag)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def _publish(self, uri: str, temp: str, path: Path, bucket: str, key: str, md5: str) -> None:
        # The sidecar goes first and describes the temp file's inode, which the rename keeps; a
        # reader in between sees the old file with a sidecar that does not match it, never a
        # wrong MD5.
        meta = {"key": key, "md5": md5, "file": _file_identity(os.stat(temp))}
        self._write_meta(bucket, key, meta)
        for _attempt in range(3):
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                os.replace(temp, path)
                return
            except FileNotFoundError:
                continue  # a delete pruned the empty folder in between: make it again
            except (IsADirectoryError, NotADirectoryError, FileExistsError):
                raise StorageError(
                    f"cannot write {uri}: the local backend cannot hold both an object and a "
                    "prefix of the same name"
                ) from None
        raise StorageError(f"cannot write {uri}: its folder keeps disappearing")

    def _write_meta(self, bucket: str, key: str, meta: dict) -> None:
        meta_path = self._meta_path(bucket, key)
        meta_path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = self._temp_file()
        try:
            with os.fdopen(fd, "w") as file:
                json.dump(meta, file)
            os.replace(temp, meta_path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    # Server-side
    def copy(self, src_uri: str, dst_uri: str) -> ObjectInfo:
        parse_object_uri(dst_uri)
        if src_uri == dst_uri:
            return self.stat(src_uri)
        self.stat(src_uri)
        return self._concatenate(dst_uri, [src_uri])

    def compose(self, dst_uri: str, src_uris: Iterable[str]) -> ObjectInfo:
        sources = list(src_uris)
        if not sources:
            raise ValueError("compose needs at least one source")
        parse_object_uri(dst_uri)
        for src_uri in sources:
            self.stat(src_uri)
        return self._concatenate(dst_uri, sources)

    def delete(self, uri: str) -> None:
        bucket, key = parse_uri(uri)
        if not key:
            raise InvalidURI(uri, "must name an object, not a bucket")
        if key.endswith("/"):
            self._bucket_dir(bucket)
            return  # a prefix is never a file here
        _, _, path = self._locate(uri)
        try:
            path.unlink()
        except OSError:
            if path.is_file():
                raise
            return  # nothing there, or a folder (which is no object)
        self._meta_path(bucket, key).unlink(missing_ok=True)
        _prune_empty_parents(path.parent, self.root / bucket)


def _file_identity(stat: os.stat_result) -> list[int]:
    return [stat.st_size, stat.st_mtime_ns, stat.st_ino]


def _sorted_entries(directory: Path | str, name_start: str) -> list[tuple[os.DirEntry, bool]]:
    """The entries of a folder whose names start with ``name_start``, in key order."""
    try:
        with os.scandir(directory) as scan:
            entries = [
                (entry, entry.is_dir()) for entry in scan if entry.name.startswith(name_start)
            ]
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(entries, key=lambda pair: pair[0].name + "/" if pair[1] else pair[0].name)


def _has_file(directory: Path | str) -> bool:
    """Whether any file lies under the folder (stops at the first one)."""
    return any(filenames for _path, _dirs, filenames in os.walk(directory, followlinks=True))


def _prune_empty_parents(directory: Path, stop: Path) -> None:
    """Remove the now-empty folders from ``directory`` up to, not including, ``stop``."""
    while directory != stop and stop in directory.parents:
        try:
            directory.rmdir()
        except OSError:
            return  # not empty (or already gone)
        directory = directory.parent
