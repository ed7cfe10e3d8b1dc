"""Password sign-in (the console's form and the admin's) with failures counted and throttled.

Django's own backend, asked only while the user name and the address are under the limit
(``console.accounts.throttle``); a refusal past it stops every backend, as ``PermissionDenied``
does in ``django.contrib.auth.authenticate``.
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from console.accounts.throttle import (
    auth_failure_record,
    auth_failure_throttled,
    auth_failures_clear,
    client_address,
)


def username_credential(username: str) -> str:
    return f"user {username}"


class ThrottledModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:  # not a password sign-in: nothing to guess
            return super().authenticate(request, username, password, **kwargs)
        credential, address = username_credential(username), client_address(request)
        if auth_failure_throttled(credential=credential, address=address):
            raise PermissionDenied("too many failed sign-ins")
        user = super().authenticate(request, username, password, **kwargs)
        if user is None:
            auth_failure_record(credential=credential, address=address)
        else:
            auth_failures_clear(credential=credential)
        return user
