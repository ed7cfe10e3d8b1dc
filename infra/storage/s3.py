"""The S3 backend, on the ``minio`` client: any S3-compatible server (MinIO, SeaweedFS, Ceph, AWS).

Writes are atomic because S3's are: a PutObject or a CompleteMultipartUpload publishes the whole
object at once, and an aborted multipart upload leaves nothing behind. ``open_write`` streams: it
buffers one part at a time and uploads parts (a few in parallel) while the caller goes on writing.
minio 7.2 has no public API for a multipart upload fed piece by piece, so the writer calls the
client's multipart methods (``_create_multipart_upload`` and friends; pinned in requirements.lock).
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from itertools import islice
from typing import BinaryIO
from urllib.parse import urlsplit

from minio import Minio
from minio.commonconfig import ComposeSource
from minio.datatypes import Object, Part
from minio.deleteobjects import DeleteObject
from minio.error import S3Error
from urllib3.exceptions import HTTPError, MaxRetryError

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
    StorageUnavailable,
    bounded_reader,
    check_range,
    join_uri,
    parse_object_uri,
    parse_uri,
)

logger = logging.getLogger(__name__)

MIN_PART_SIZE = 5 * 1024 * 1024  # S3's smallest part, except the last one
DELETE_BATCH = 1000  # S3's most keys in one DeleteObjects request


class S3ObjectStore(ObjectStore):
    part_size = 8 * 1024 * 1024  # what open_write buffers before it uploads a part
    parallel_parts = 4  # parts in flight at once per writer: memory stays under 5 parts

    def __init__(
        self, *, endpoint_url: str, access_key: str, secret_key: str, region: str = "us-east-1"
    ) -> None:
        url = urlsplit(endpoint_url)
        if url.scheme not in ("http", "https") or not url.netloc or url.path not in ("", "/"):
            raise ValueError(
                f"S3 endpoint must look like http(s)://host[:port], not {endpoint_url!r}"
            )
        self.endpoint_url = endpoint_url
        self._config = {
            "endpoint": url.netloc,
            "access_key": access_key or None,
            "secret_key": secret_key or None,
            "region": region,
            "secure": url.scheme == "https",
        }
        self._minio: Minio | None = None
        self._minio_pid: int | None = None

    def __repr__(self) -> str:
        return f"S3ObjectStore({self.endpoint_url!r})"

    # Dask and Prefect ship stores to other processes: send the settings, not the connection pool.
    def __getstate__(self) -> dict:
        return {"endpoint_url": self.endpoint_url, "_config": self._config}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, _minio=None, _minio_pid=None)

    @property
    def _client(self) -> Minio:
        # A forked child (Celery prefork, multiprocessing) must not share the parent's sockets.
        if self._minio_pid != os.getpid():
            self._minio = Minio(**self._config)
            self._minio_pid = os.getpid()
        return self._minio  # type: ignore[return-value]

    @contextmanager
    def _errors(self, bucket: str, uri: str | None = None) -> Iterator[None]:
        """Turn the client's errors into this package's."""
        try:
            yield
        except S3Error as error:
            if error.code == "NoSuchBucket":
                raise BucketNotFound(bucket) from None
            if error.code in ("NoSuchKey", "NotFound") and uri is not None:
                raise ObjectNotFound(uri) from None
            if error.code == "BucketNotEmpty":
                raise BucketNotEmpty(bucket) from None
            raise StorageError(f"{uri or bucket}: {error.code}: {error.message}") from error
        except HTTPError as error:  # no answer, after the client's retries (urllib3's)
            cause = error.reason if isinstance(error, MaxRetryError) else error
            raise StorageUnavailable(
                f"the S3 server at {self.endpoint_url} did not answer for {uri or bucket}: {cause}"
            ) from error

    def _info(self, obj: Object) -> ObjectInfo:
        return ObjectInfo(
            bucket=obj.bucket_name,
            key=obj.object_name,  # type: ignore[arg-type]
            size=obj.size or 0,
            etag=(obj.etag or "").strip('"'),
            last_modified=obj.last_modified,  # type: ignore[arg-type]
        )

    # Buckets
    def list_buckets(self) -> list[str]:
        with self._errors(""):
            return sorted(bucket.name for bucket in self._client.list_buckets())

    def create_bucket(self, bucket: str) -> None:
        if not BUCKET_NAME.match(bucket):
            raise InvalidURI(bucket, BUCKET_RULE)
        try:
            self._client.make_bucket(bucket)
        except S3Error as error:
            # us-east-1 servers may say "exists" even to the bucket's owner.
            owned = error.code == "BucketAlreadyOwnedByYou" or (
                error.code == "BucketAlreadyExists" and self._client.bucket_exists(bucket)
            )
            if not owned:
                raise StorageError(f"cannot create bucket {bucket!r}: {error.message}") from error

    def delete_bucket(self, bucket: str) -> None:
        if not BUCKET_NAME.match(bucket):
            raise InvalidURI(bucket, BUCKET_RULE)
        with self._errors(bucket):
            self._client.remove_bucket(bucket)

    # Reading
    def stat(self, uri: str) -> ObjectInfo:
        bucket, key = parse_uri(uri)
        try:
            if key:  # a bucket is no object
                with self._errors(bucket, uri):
                    return self._info(self._client.stat_object(bucket, key))
        except ObjectNotFound:
            pass
        # A HEAD's 404 does not say whether the bucket or the key is missing.
        if not self._client.bucket_exists(bucket):
            raise BucketNotFound(bucket)
        raise ObjectNotFound(uri)

    def list(self, prefix_uri: str) -> Iterator[ObjectInfo]:
        bucket, prefix = parse_uri(prefix_uri)
        return self._list(bucket, prefix)

    def _list(self, bucket: str, prefix: str, start_after: str | None = None):
        with self._errors(bucket):
            for obj in self._client.list_objects(
                bucket, prefix=prefix, recursive=True, start_after=start_after
            ):
                yield self._info(obj)

    def browse(self, prefix_uri: str) -> Listing:
        bucket, prefix = parse_uri(prefix_uri)
        prefixes: list[str] = []
        objects: list[ObjectInfo] = []
        with self._errors(bucket):
            for obj in self._client.list_objects(bucket, prefix=prefix, recursive=False):
                if obj.size is None and obj.etag is None:  # a common prefix
                    prefixes.append(join_uri(bucket, obj.object_name))  # type: ignore[arg-type]
                elif obj.object_name != prefix:  # skip the "folder" marker of the prefix itself
                    objects.append(self._info(obj))
        return Listing(prefixes=sorted(prefixes), objects=sorted(objects, key=lambda o: o.key))

    def open_read(self, uri: str, *, start: int = 0, end: int | None = None) -> BinaryIO:
        check_range(start, end)
        bucket, key = parse_uri(uri)
        if not key or end == start:
            self.stat(uri)  # raises for a bucket or a missing object
            return bounded_reader(io.BytesIO())
        try:
            response = self._client.get_object(
                bucket, key, offset=start, length=0 if end is None else end - start
            )
        except S3Error as error:
            if error.code == "InvalidRange":
                return bounded_reader(io.BytesIO())  # starts at or past the end
            with self._errors(bucket, uri):
                raise
        response.decode_content = False  # the stored bytes, whatever Content-Encoding says

        def release() -> None:
            response.close()
            response.release_conn()

        return bounded_reader(response, on_close=release)

    # Writing
    @contextmanager
    def open_write(
        self, uri: str, *, content_type: str = "application/octet-stream"
    ) -> Iterator[BinaryIO]:
        bucket, key = parse_object_uri(uri)
        writer = _MultipartWriter(self, bucket, key, uri, content_type)
        try:
            yield writer  # type: ignore[misc]
            writer.commit()
        except BaseException:
            writer.abort()
            raise
        finally:
            writer.close()

    # Server-side
    def copy(self, src_uri: str, dst_uri: str) -> ObjectInfo:
        dst_bucket, dst_key = parse_object_uri(dst_uri)
        source = self.stat(src_uri)
        if src_uri == dst_uri:
            return source
        # compose_object with one source is CopyObject, or a multipart copy past 5 GiB.
        with self._errors(dst_bucket, src_uri):
            self._client.compose_object(
                dst_bucket, dst_key, [ComposeSource(source.bucket, source.key)]
            )
        return self.stat(dst_uri)

    def compose(self, dst_uri: str, src_uris: Iterable[str]) -> ObjectInfo:
        sources = list(src_uris)
        if not sources:
            raise ValueError("compose needs at least one source")
        dst_bucket, dst_key = parse_object_uri(dst_uri)
        parts = [info for info in map(self.stat, sources) if info.size > 0]
        if not parts:
            return self.write_bytes(dst_uri, b"")
        if all(info.size >= MIN_PART_SIZE for info in parts[:-1]):
            try:
                with self._errors(dst_bucket, dst_uri):
                    self._client.compose_object(
                        dst_bucket,
                        dst_key,
                        [
                            ComposeSource(info.bucket, info.key, match_etag=info.etag)
                            for info in parts
                        ],
                    )
                return self.stat(dst_uri)
            except ValueError:
                pass  # a source over 5 GiB splits into a last piece under 5 MiB: stream instead
        return self._concatenate(dst_uri, [info.uri for info in parts])

    def delete(self, uri: str) -> None:
        bucket, key = parse_uri(uri)
        if not key:
            raise InvalidURI(uri, "must name an object, not a bucket")
        with self._errors(bucket, uri):
            self._client.remove_object(bucket, key)

    def delete_prefix(self, prefix_uri: str) -> int:
        bucket, prefix = parse_uri(prefix_uri)
        count = 0
        start_after = None
        while True:
            # List a batch, delete it, list on after its last key: no listing across deletions.
            keys = [
                info.key for info in islice(self._list(bucket, prefix, start_after), DELETE_BATCH)
            ]
            if not keys:
                return count
            with self._errors(bucket):
                errors = list(self._client.remove_objects(bucket, map(DeleteObject, keys)))
            if errors:
                raise StorageError(
                    f"cannot delete {join_uri(bucket, errors[0].name)}: {errors[0].message}"
                )
            count += len(keys)
            start_after = keys[-1]


class _MultipartWriter(ObjectWriter):
    """Buffers one part; uploads full parts as a multipart upload, a few at a time in threads.

    Nothing is visible until ``commit``; ``abort`` cancels the upload and its parts.
    """

    def __init__(self, store: S3ObjectStore, bucket: str, key: str, uri: str, content_type: str):
        super().__init__()
        self._store = store
        self._client = store._client
        self._bucket, self._key, self._uri = bucket, key, uri
        self._content_type = content_type
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._pending: set[Future] = set()
        self._etags: dict[int, str] = {}
        self._parts_sent = 0

    def _write(self, data: memoryview) -> None:
        part_size = self._store.part_size
        while data:
            room = part_size - len(self._buffer)
            self._buffer += data[:room]
            data = data[room:]
            if len(self._buffer) >= part_size:
                self._send_part()

    def _send_part(self) -> None:
        if self._upload_id is None:
            with self._store._errors(self._bucket, self._uri):
                self._upload_id = self._client._create_multipart_upload(
                    self._bucket, self._key, {"Content-Type": self._content_type}
                )
            self._executor = ThreadPoolExecutor(
                self._store.parallel_parts, thread_name_prefix="s3-part"
            )
        self._collect(keep_at_most=self._store.parallel_parts - 1)
        self._parts_sent += 1
        data, self._buffer = bytes(self._buffer), bytearray()
        self._pending.add(self._executor.submit(self._upload_part, self._parts_sent, data))  # type: ignore[union-attr]

    def _upload_part(self, number: int, data: bytes) -> tuple[int, str]:
        with self._store._errors(self._bucket, self._uri):
            etag = self._client._upload_part(
                self._bucket, self._key, data, None, self._upload_id, number
            )
        return number, etag

    def _collect(self, *, keep_at_most: int) -> None:
        """Record finished parts (raising the first failure); wait until few enough are left."""
        done, self._pending = wait(self._pending, timeout=0)
        while len(self._pending) > keep_at_most:
            finished, self._pending = wait(self._pending, return_when=FIRST_COMPLETED)
            done |= finished
        for future in done:
            number, etag = future.result()
            self._etags[number] = etag

    def commit(self) -> None:
        if self._upload_id is None:  # under one part: a single PUT
            with self._store._errors(self._bucket, self._uri):
                self._client.put_object(
                    self._bucket,
                    self._key,
                    io.BytesIO(self._buffer),
                    len(self._buffer),
                    content_type=self._content_type,
                    part_size=self._store.part_size,  # one part: a single PutObject
                )
            return
        if self._buffer:
            self._send_part()
        self._collect(keep_at_most=0)
        parts = [Part(number, self._etags[number]) for number in sorted(self._etags)]
        with self._store._errors(self._bucket, self._uri):
            self._client._complete_multipart_upload(self._bucket, self._key, self._upload_id, parts)
        self._shutdown()

    def abort(self) -> None:
        self._shutdown()
        if self._upload_id is not None:
            try:
                self._client._abort_multipart_upload(self._bucket, self._key, self._upload_id)
            except Exception:
                logger.warning("could not abort the upload of %s", self._uri, exc_info=True)

    def _shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        self._buffer = bytearray()
