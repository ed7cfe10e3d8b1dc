"""Who is calling: SigV4 verified against the caller's access key."""

from __future__ import annotations

from django.http import HttpRequest

from console.accounts.selectors import access_key_credentials
from console.accounts.services import access_key_mark_used
from console.sagemaker import sigv4
from console.sagemaker.errors import AwsError

_SIGNATURE_STATUS = {"MissingAuthenticationTokenException": 403}


def signed_request(request: HttpRequest, body: bytes) -> sigv4.SignedRequest:
    headers = {name.lower(): value for name, value in request.headers.items()}
    return sigv4.SignedRequest(
        method=request.method or "POST",
        path=request.path,
        query_string=request.META.get("QUERY_STRING", ""),
        headers=headers,
        body=body,
    )


def authenticate(request: HttpRequest, body: bytes):
    """The user whose access key signed the request; AwsError (4xx) otherwise."""
    signed = signed_request(request, body)
    try:
        credential, _, _ = sigv4.parse_authorization(signed.headers)
        found = access_key_credentials(access_key_id=credential.access_key_id)
        if found is None:
            raise AwsError(
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            )
        key, secret = found
        sigv4.verify(signed, secret=secret)
    except sigv4.SignatureError as exc:
        raise AwsError(exc.code, exc.message, status=_SIGNATURE_STATUS.get(exc.code, 400)) from exc
    access_key_mark_used(key=key)
    return key.user
