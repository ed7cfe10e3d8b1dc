"""Reads of users and access keys."""

from __future__ import annotations

from console.accounts import crypto
from console.accounts.models import AccessKey


def access_key_list(*, user) -> list[AccessKey]:
    return list(AccessKey.objects.filter(user=user))


def access_key_credentials(*, access_key_id: str) -> tuple[AccessKey, str] | None:
    """The active key and its secret, for verifying a signature; None if unknown or revoked."""
    key = (
        AccessKey.objects.select_related("user")
        .filter(access_key_id=access_key_id, revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if key is None:
        return None
    secret = crypto.decrypt(key.encrypted_secret)
    return None if secret is None else (key, secret)
