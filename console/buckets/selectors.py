"""Reads of buckets: which ones a user may reach.

A user reaches the buckets they own. Staff reach every bucket, including those without an owner
(made outside the console and the S3 API: by ``manage.py objects mb`` or the platform itself).
"""

from __future__ import annotations

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
