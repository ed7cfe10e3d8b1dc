"""Object storage over ``s3://bucket/key`` URIs: an S3 server or a local directory.

``get_store()`` is the process's store, chosen by the settings: S3 when ``S3_ENDPOINT_URL`` is
set, else the directory ``DATA_DIR/objects``.
"""

from __future__ import annotations

import functools

from infra.config import Settings, settings
from infra.storage.base import (
    BucketNotEmpty,
    BucketNotFound,
    InvalidURI,
    Listing,
    ObjectInfo,
    ObjectNotFound,
    ObjectStore,
    StorageError,
    StorageUnavailable,
    join_uri,
    parse_object_uri,
    parse_uri,
    until_available,
)
from infra.storage.local import LocalObjectStore

__all__ = [
    "BucketNotEmpty",
    "BucketNotFound",
    "InvalidURI",
    "Listing",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectStore",
    "StorageError",
    "StorageUnavailable",
    "get_store",
    "join_uri",
    "open_store",
    "parse_object_uri",
    "parse_uri",
    "until_available",
]


def open_store(settings: Settings) -> ObjectStore:
    """The store the settings describe (a new one each call)."""
    if settings.s3_endpoint_url:
        # Here, not at the top: the S3 backend's client (minio) takes a good half second to
        # import, and a platform on the local directory never needs it.
        from infra.storage.s3 import S3ObjectStore

        return S3ObjectStore(
            endpoint_url=settings.s3_endpoint_url,
            access_key=settings.s3_access_key or "",
            secret_key=settings.s3_secret_key or "",
            region=settings.s3_region,
        )
    return LocalObjectStore(settings.objects_dir)


@functools.cache
def get_store() -> ObjectStore:
    """The process-wide store, from ``infra.config.settings()``."""
    return open_store(settings())
