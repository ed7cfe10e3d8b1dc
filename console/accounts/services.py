"""Every write to users and access keys."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from console.accounts import crypto
from console.accounts.models import AccessKey
from console.core.errors import NotFound, ValidationError

_ID_ALPHABET = string.ascii_uppercase + string.digits


@dataclass(frozen=True)
class NewAccessKey:
    """What the user sees once, at creation; the secret is never shown again."""

    access_key: AccessKey
    secret_access_key: str

    @property
    def access_key_id(self) -> str:
        return self.access_key.access_key_id


def access_key_create(*, user, description: str = "") -> NewAccessKey:
    if len(description) > 200:
        raise ValidationError("description", "Member must have length less than or equal to 200")
    access_key_id = "SBAK" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))
    secret = secrets.token_urlsafe(30)[:40]
    key = AccessKey.objects.create(
        user=user,
        access_key_id=access_key_id,
        encrypted_secret=crypto.encrypt(secret),
        description=description,
    )
    return NewAccessKey(access_key=key, secret_access_key=secret)


def access_key_revoke(*, user, access_key_id: str) -> AccessKey:
    key = AccessKey.objects.filter(user=user, access_key_id=access_key_id).first()
    if key is None:
        raise NotFound("Access key", access_key_id)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def access_key_mark_used(*, key: AccessKey) -> None:
    """Record use at most once a minute, so authentication does not write on every call."""
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        AccessKey.objects.filter(pk=key.pk).update(last_used_at=now)


@dataclass(frozen=True)
class AdminCreated:
    username: str
    password: str | None  # set only when generated here, to be printed once


@transaction.atomic
def admin_ensure(*, username: str | None, password: str | None) -> AdminCreated | None:
    """Create the first admin when no superuser exists; returns None when one already does."""
    user_model = get_user_model()
    if user_model.objects.filter(is_superuser=True).exists():
        return None
    username = username or "admin"
    generated = None
    if not password:
        generated = password = secrets.token_urlsafe(12)
    user_model.objects.create_superuser(username=username, email="", password=password)
    return AdminCreated(username=username, password=generated)
