"""Every write of a bucket: create (claiming it for the caller) and delete."""

from __future__ import annotations

from django.db import transaction

from console.buckets.errors import BucketTaken
from console.buckets.models import Bucket
from console.buckets.selectors import bucket_check
from console.core.errors import ValidationError
from infra.storage import get_store
from infra.storage.base import BUCKET_NAME, BUCKET_RULE


def bucket_create(*, user, name: str) -> Bucket:
    """Create the bucket in the store, owned by ``user``.

    ValidationError for a name S3 would refuse; BucketTaken when the name is in use (``yours``
    when by the caller). A row left by a bucket removed from the store behind the platform's
    back does not keep its name taken.
    """
    if not BUCKET_NAME.match(name):
        raise ValidationError("Bucket", BUCKET_RULE, value=name)
    store = get_store()
    with transaction.atomic():
        row = Bucket.objects.select_for_update().filter(name=name).first()
        in_store = name in store.list_buckets()
        if row is not None and in_store:
            raise BucketTaken(name, yours=row.owner_id == user.pk)
        if row is None and in_store:
            raise BucketTaken(name, yours=False)
        if row is not None:
            row.delete()
        bucket = Bucket.objects.create(name=name, owner=user)
        store.create_bucket(name)
    return bucket


def bucket_delete(*, user, name: str) -> None:
    """Delete an empty bucket the user may reach. NotFound, BucketForbidden, and the store's
    BucketNotEmpty."""
    bucket_check(user=user, name=name)
    with transaction.atomic():
        get_store().delete_bucket(name)
        Bucket.objects.filter(name=name).delete()
