"""Who is calling: SigV4 verified against the caller's access key; failures past the limit of
``console.accounts.throttle`` answered as throttled."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.http import HttpRequest

from console.accounts.selectors import access_key_credentials
from console.accounts.services import access_key_mark_used
from console.accounts.throttle import auth_failure_record, client_address
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


def access_key_id_of(signed: sigv4.SignedRequest) -> str:
    """The access key id the request claims to be signed with; AwsError if it names none."""
    with _as_aws_errors():
        credential, _, _ = sigv4.parse_authorization(signed.headers)
    return credential.access_key_id


def verified_user(
    signed: sigv4.SignedRequest, credentials: tuple | None, *, service: str = sigv4.SERVICE
):
    """The key's user, once the signature for ``service`` checks out against ``credentials``
    (the ``(key, secret)`` that ``access_key_credentials`` found, or None); AwsError otherwise."""
    if credentials is None:
        raise AwsError(
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        )
    key, secret = credentials
    with _as_aws_errors():
        sigv4.verify(signed, secret=secret, region=settings.SAGEMAKER_REGION, service=service)
    return key.user


def authenticate(request: HttpRequest, body: bytes, *, service: str = sigv4.SERVICE):
    """The user whose access key signed the request for ``service``; AwsError (4xx) otherwise."""
    signed = signed_request(request, body)
    try:
        credentials = access_key_credentials(access_key_id=access_key_id_of(signed))
        user = verified_user(signed, credentials, service=service)
    except AwsError as exc:
        raise refusal(exc, signed, address=client_address(request)) from exc
    access_key_mark_used(key=credentials[0])
    return user


def refusal(
    exc: AwsError, signed: sigv4.SignedRequest, *, address: str, code: str = "ThrottlingException"
) -> AwsError:
    """What to answer a request that failed authentication with ``exc``: ``exc`` itself, or,
    once its access key or address is past the limit, ``code`` (400), the throttling error that
    the AWS SDKs back off and retry on. An unsigned request guesses nothing and is not counted."""
    if exc.code == "MissingAuthenticationTokenException":
        return exc
    throttled = auth_failure_record(credential=claimed_credential(signed), address=address)
    return exc if throttled is None else AwsError(code, throttled.message, status=400)


def claimed_credential(signed: sigv4.SignedRequest) -> str:
    """``"access key <id>"`` as the request names it, or "" when it names none readably."""
    try:
        credential, _, _ = sigv4.parse_authorization(signed.headers)
    except sigv4.SignatureError:
        return ""
    return f"access key {credential.access_key_id}"


@contextmanager
def _as_aws_errors() -> Iterator[None]:
    try:
        yield
    except sigv4.SignatureError as exc:
        raise AwsError(exc.code, exc.message, status=_SIGNATURE_STATUS.get(exc.code, 400)) from exc


def credential_service(request: HttpRequest) -> str | None:
    """The service a signed request's credential scope names (``sagemaker``, ``s3``, ``sts``):
    from the Authorization header, or a presigned URL's ``X-Amz-Credential``; None if unsigned."""
    header = request.headers.get("Authorization", "")
    if header.startswith("AWS4-HMAC-SHA256"):
        try:
            credential, _, _ = sigv4.parse_authorization({"authorization": header})
        except sigv4.SignatureError:
            return None
        return credential.service
    credential = sigv4.presigned_credential(
        {"X-Amz-Credential": request.GET.get("X-Amz-Credential", "")}
    )
    return None if credential is None else credential.service
