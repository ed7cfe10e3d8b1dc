"""Brute force slowed down: failed authentications counted per credential and per client address.

Every check of a secret reports its failures here: SigV4 on the SageMaker-protocol APIs (SageMaker,
the runtime, Logs, Application Auto Scaling, CloudWatch), STS and S3; the REST API's access-key
bearer; passwords at the console's and the admin's sign-in. Past ``AUTH_FAILURE_LIMIT`` failures
within ``AUTH_FAILURE_WINDOW_S`` seconds from one access key (or user name) or one address, the
adapter answers its protocol's throttling error instead.

An API request whose signature checks out is never counted, never refused and costs no cache
call: a 40-character random secret cannot be guessed, and a key's owner must not be locked out
by whoever sends bad signatures in its name. A password can be guessed, so sign-in is refused
before the password is checked once the user name or the address is past the limit.

The counts live in Django's cache, Redis in the stack (``CACHES``), so every web process sees
the same ones. The address is the connection's (``REMOTE_ADDR``): a forwarded-for header is
the caller's to forge. Should the cache be unreachable, authentication goes on unthrottled.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)
_PREFIX = "sb:auth-failures"


@dataclass(frozen=True)
class Throttled:
    """Who went past the limit, and the limit."""

    subject: str  # "access key AKIA...", "user ada" or "address 10.0.0.7"
    failures: int
    limit: int
    window_s: int

    @property
    def message(self) -> str:
        return (
            f"Too many failed authentication attempts from {self.subject}: {self.failures} "
            f"within {self.window_s} seconds, where {self.limit} are allowed. Wait up to "
            f"{self.window_s} seconds, then sign in with valid credentials."
        )


def auth_failure_record(*, credential: str, address: str) -> Throttled | None:
    """Count one failed authentication of ``credential`` (``"access key <id>"``, ``"user
    <name>"``; "" when the request named none) from ``address``; what is now past the limit,
    if anything is."""
    limit, window_s = _limits()
    subjects = _subjects(credential, address)
    try:
        counts = [_count_one(_key(subject), window_s) for subject in subjects]
    except Exception:  # the cache is down: nobody is slowed rather than everybody refused
        log.warning("Could not count a failed authentication", exc_info=True)
        return None
    return _past(subjects, counts, limit, window_s, at_least=limit + 1)


def auth_failure_throttled(*, credential: str, address: str) -> Throttled | None:
    """Whether ``credential`` or ``address`` has already failed the limit's number of times in
    the window (read only: for checks made before the secret is)."""
    limit, window_s = _limits()
    subjects = _subjects(credential, address)
    try:
        found = cache.get_many([_key(subject) for subject in subjects])
    except Exception:
        log.warning("Could not read the failed authentications", exc_info=True)
        return None
    counts = [int(found.get(_key(subject)) or 0) for subject in subjects]
    return _past(subjects, counts, limit, window_s, at_least=limit)


def auth_failures_clear(*, credential: str) -> None:
    """Forget ``credential``'s failures (its owner has just signed in). The address's stay."""
    try:
        cache.delete(_key(credential))
    except Exception:
        log.warning("Could not clear the failed authentications", exc_info=True)


def client_address(request) -> str:
    """The address of the connection the request came on."""
    return request.META.get("REMOTE_ADDR", "") if request is not None else ""


def _limits() -> tuple[int, int]:
    return settings.AUTH_FAILURE_LIMIT, settings.AUTH_FAILURE_WINDOW_S


def _subjects(credential: str, address: str) -> list[str]:
    return [s for s in (credential, f"address {address}" if address else "") if s]


def _key(subject: str) -> str:
    # Hashed: a user name or a forged key id may hold anything, and a cache key may not.
    return f"{_PREFIX}:{hashlib.sha256(subject.encode('utf-8', 'replace')).hexdigest()[:32]}"


def _count_one(key: str, window_s: int) -> int:
    """One more failure in the window that the key's first failure opened."""
    cache.add(key, 0, timeout=window_s)
    try:
        return cache.incr(key)
    except ValueError:  # the window closed between the two calls
        cache.set(key, 1, timeout=window_s)
        return 1


def _past(
    subjects: list[str], counts: list[int], limit: int, window_s: int, *, at_least: int
) -> Throttled | None:
    for subject, count in zip(subjects, counts, strict=True):
        if count >= at_least:
            return Throttled(subject=subject, failures=count, limit=limit, window_s=window_s)
    return None
