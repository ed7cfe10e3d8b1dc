"""REST API authentication by access key: ``Authorization: Bearer <AccessKeyId>:<Secret>``.

Failures past the limit of ``console.accounts.throttle`` are answered 429 (DRF's ``Throttled``).
"""

from __future__ import annotations

import hmac

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from console.accounts.selectors import access_key_credentials
from console.accounts.services import access_key_mark_used
from console.accounts.throttle import auth_failure_record, client_address


class AccessKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header.startswith(self.keyword + " "):
            return None
        access_key_id, _, secret = header[len(self.keyword) + 1 :].strip().partition(":")
        found = access_key_credentials(access_key_id=access_key_id) if secret else None
        if found is None or not hmac.compare_digest(found[1], secret):
            throttled = auth_failure_record(
                credential=f"access key {access_key_id}", address=client_address(request)
            )
            if throttled is not None:
                raise exceptions.Throttled(wait=throttled.window_s, detail=throttled.message)
            raise exceptions.AuthenticationFailed("Invalid access key or secret.")
        key, _ = found
        access_key_mark_used(key=key)
        return key.user, key

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'


class AccessKeyScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI document describes access-key authentication."""

    target_class = AccessKeyAuthentication
    name = "accessKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "<AccessKeyId>:<SecretAccessKey>",
        }
