"""Reads of buckets: which ones a user may reach.

A user reaches the buckets they own. Staff reach every bucket, including those without an owner
(made outside the console and the S3 API: by ``manage.py objects mb`` or the platform itself).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from console.buckets.errors import BucketForbidden
from console.buckets.models import Bucket
from console.core.errors import NotFound, ValidationError
from infra.storage import InvalidURI, ObjectStore, StorageError, get_store, parse_uri
from infra.storage.confined import ConfinedStore


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


def bucket_check_request(*, user, request: Any) -> None:
    """Every bucket an ``s3://`` URI anywhere in a job's request names (its inputs, outputs, code,
    model data, manifests), and the bucket a ``ManifestFile``'s own prefix names, is one the user
    may reach, so a job reads and writes only what its owner could through the S3 API. This runs
    before any check that lists objects, so a refusal tells nothing of another account's objects.
    A bucket that does not exist is left to the field's own check. Raises ValidationError naming
    the first field that breaks the rule."""
    if user.is_staff:
        return
    owned = set(Bucket.objects.filter(owner=user).values_list("name", flat=True))
    existing: set[str] | None = None

    def check(field: str, uri: str, bucket: str, rule: str) -> None:
        nonlocal existing
        if bucket in owned:
            return
        existing = set(get_store().list_buckets()) if existing is None else existing
        if bucket in existing:
            raise ValidationError(field, rule.format(bucket=bucket), value=uri)

    for field, uri in _s3_uris(request, ""):
        if bucket := _bucket(uri):
            check(field, uri, bucket, OTHERS_BUCKET)
    for field, uri in _manifest_sources(request, ""):
        for bucket in _manifest_buckets(uri):
            check(field, uri, bucket, OTHERS_MANIFEST)


OTHERS_BUCKET = "Member must name one of your buckets: {bucket!r} belongs to another account"
OTHERS_MANIFEST = (
    "Member must name a manifest of objects in your buckets: it lists objects in {bucket!r}, "
    "which belongs to another account"
)


def _s3_uris(value: Any, field: str) -> Iterator[tuple[str, str]]:
    """``(wire path, uri)`` for each ``s3://`` string in a request; list members are numbered
    from 1, as the services name them."""
    if isinstance(value, str):
        if value.startswith("s3://"):
            yield field, value
    elif isinstance(value, dict):
        for key, member in value.items():
            yield from _s3_uris(member, f"{field}.{key}" if field else str(key))
    elif isinstance(value, list):
        for index, member in enumerate(value, start=1):
            yield from _s3_uris(member, f"{field}.{index}")


def _manifest_sources(value: Any, field: str) -> Iterator[tuple[str, str]]:
    """``(wire path, uri)`` of each ``S3Uri`` that names a ``ManifestFile``."""
    if isinstance(value, dict):
        uri = value.get("S3Uri")
        if value.get("S3DataType") == "ManifestFile" and isinstance(uri, str):
            yield (f"{field}.S3Uri" if field else "S3Uri"), uri
        for key, member in value.items():
            yield from _manifest_sources(member, f"{field}.{key}" if field else str(key))
    elif isinstance(value, list):
        for index, member in enumerate(value, start=1):
            yield from _manifest_sources(member, f"{field}.{index}")


def _manifest_buckets(uri: str) -> set[str]:
    """The bucket a manifest's prefix names, read from the manifest alone (its keys are not
    looked up, so nothing is learnt of that bucket's objects); none when the manifest cannot be
    read or has no prefix (the field's own check says why)."""
    try:
        entries = json.loads(get_store().read_bytes(uri))
        return {parse_uri(entries[0]["prefix"])[0]}
    except (StorageError, ValueError, LookupError, TypeError):
        return set()


def _bucket(uri: str) -> str | None:
    try:
        return parse_uri(uri)[0]
    except InvalidURI:
        return None  # the field's own check names the problem


def bucket_store(*, user) -> ObjectStore:
    """The store as a job of ``user``'s may use it: confined to the buckets the user owns (all
    of them for staff), so the URIs a job's data names reach no other account's objects."""
    store = get_store()
    if user.is_staff:
        return store
    return ConfinedStore(store, Bucket.objects.filter(owner=user).values_list("name", flat=True))


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
