"""Reads of buckets: which ones a user may reach.

A user reaches the buckets they own. Staff reach every bucket, including those without an owner
(made outside the console and the S3 API: by ``manage.py objects mb`` or the platform itself).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from console.buckets.errors import BucketForbidden
from console.buckets.models import Bucket
from console.core.errors import NotFound
from infra.storage import get_store, parse_uri


def bucket_list(*, user) -> list[tuple[str, datetime | None]]:
    """The buckets the user may reach, by name, with their creation time (None if unowned)."""
    created = dict(Bucket.objects.values_list("name", "created_at"))
    owned = set(Bucket.objects.filter(owner=user).values_list("name", flat=True))
    return [
        (name, created.get(name))
        for name in get_store().list_buckets()
        if name in owned or user.is_staff
    ]


def bucket_check(*, user, name: str) -> None:
    """Nothing if the user may reach the bucket; NotFound if no such bucket is in the store,
    BucketForbidden if it is someone else's (or unowned and the user is not staff)."""
    if name not in get_store().list_buckets():
        raise NotFound("Bucket", name)
    if user.is_staff:
        return
    if not Bucket.objects.filter(name=name, owner=user).exists():
        raise BucketForbidden(name)


def bucket_check_uri(*, user, uri: str) -> tuple[str, str]:
    """``bucket_check`` for the bucket of an ``s3://`` URI; returns ``(bucket, key)``."""
    bucket, key = parse_uri(uri)
    bucket_check(user=user, name=bucket)
    return bucket, key


def bucket_owner(*, name: str):
    """The bucket's owner, or None for a bucket nobody owns."""
    row = Bucket.objects.select_related("owner").filter(name=name).first()
    return None if row is None else row.owner


# The head of an object the object browser previews: enough rows to see a CSV's shape.
PREVIEW_BYTES = 16 * 1024
PREVIEW_LINES = 25


@dataclass(frozen=True)
class ObjectHead:
    uri: str
    size: int
    lines: list[str]  # the first lines; one cut by PREVIEW_BYTES is left out unless alone
    truncated: bool  # the object holds more than these lines
    binary: bool  # a NUL byte or bytes that are not UTF-8: nothing shown


def object_head(*, user, uri: str) -> ObjectHead:
    """The first lines of an object the user may reach. NotFound, BucketForbidden, and the
    store's ObjectNotFound."""
    bucket_check_uri(user=user, uri=uri)
    store = get_store()
    info = store.stat(uri)
    data = store.read_bytes(uri, end=PREVIEW_BYTES)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end is text; anything else is not.
        if exc.start < len(data) - 3:
            return ObjectHead(uri, info.size, [], True, binary=True)
        text = data[: exc.start].decode("utf-8")
    if "\x00" in text:
        return ObjectHead(uri, info.size, [], True, binary=True)
    lines = text.splitlines()
    cut = info.size > len(data)
    if cut and len(lines) > 1 and not text.endswith("\n"):
        lines = lines[:-1]
    return ObjectHead(
        uri, info.size, lines[:PREVIEW_LINES], cut or len(lines) > PREVIEW_LINES, binary=False
    )
