"""Checks of the ``s3://`` URIs a request names, shared by every job kind's validation."""

from __future__ import annotations

from console.core.errors import ValidationError
from infra.storage import InvalidURI, get_store, parse_uri


def check_output_bucket(field: str, uri: str) -> None:
    """An output path must be an ``s3://`` URI in a bucket that exists, so a job does not run
    to its end only to fail writing what it made."""
    try:
        bucket, _ = parse_uri(uri)
    except InvalidURI as exc:
        raise ValidationError(field, str(exc), value=uri) from None
    if bucket not in get_store().list_buckets():
        raise ValidationError(field, "Member must name an existing bucket", value=uri)
