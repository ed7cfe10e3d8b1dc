"""Encryption of access-key secrets at rest, keyed from Django's SECRET_KEY.

Changing SECRET_KEY makes existing secrets unreadable: their keys then fail to authenticate and
must be created anew.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    digest = hashlib.sha256(b"sagebrush-access-keys:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(secret: str) -> bytes:
    return _fernet().encrypt(secret.encode())


def decrypt(token: bytes) -> str | None:
    try:
        return _fernet().decrypt(bytes(token)).decode()
    except InvalidToken:
        return None
