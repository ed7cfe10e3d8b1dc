"""Who is calling the S3 API: SigV4 with the platform's access keys, the same verification as the
SageMaker API (``console.sagemaker.sigv4``), scoped to the ``s3`` service.

S3 signs the payload's hash as the client declares it in ``x-amz-content-sha256``: a hex SHA-256
(checked against the body as it streams, see ``console.s3.body``), ``UNSIGNED-PAYLOAD``, or an
``aws-chunked`` body (``STREAMING-AWS4-HMAC-SHA256-PAYLOAD``: each chunk signed in a chain
seeded by the request's signature). Presigned URLs carry the signature in the query string.
Failures past the limit of ``console.accounts.throttle`` are answered ``SlowDown``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from console.accounts.selectors import access_key_credentials
from console.accounts.services import access_key_mark_used
from console.accounts.throttle import auth_failure_record, client_address
from console.s3.errors import S3Error, access_denied
from console.sagemaker import sigv4
from console.sagemaker.auth import claimed_credential, signed_request

SERVICE = "s3"
UNSIGNED = "UNSIGNED-PAYLOAD"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"


@dataclass(frozen=True)
class ChunkSigning:
    """What verifying the signature of each chunk of an aws-chunked body needs."""

    key: bytes
    amz_date: str
    scope: str
    seed_signature: str


@dataclass(frozen=True)
class Caller:
    user: object
    payload: str  # the declared x-amz-content-sha256
    chunk_signing: ChunkSigning | None = None


def authenticate(request: HttpRequest) -> Caller:
    signed = signed_request(request, b"")
    try:
        if "authorization" in signed.headers:
            return _header_signed(signed)
        if "X-Amz-Credential" in request.GET:
            return _presigned(signed, request.GET["X-Amz-Credential"])
        if "AWSAccessKeyId" in request.GET:
            return _presigned_v2(request)
    except S3Error as exc:
        raise _refusal(exc, request, signed) from exc
    raise access_denied("Anonymous access is not allowed: sign the request with an access key.")


def _refusal(exc: S3Error, request: HttpRequest, signed: sigv4.SignedRequest) -> S3Error:
    """``exc``, or once the access key or address is past the limit of failures
    (``console.accounts.throttle``), S3's throttling error ``SlowDown``: every S3 client backs
    off and retries on that code. With status 429, not S3's 503, as this adapter answers no 5xx
    (see ``console.s3.errors``); botocore treats a 429 as throttling too."""
    key_id = (
        request.GET.get("AWSAccessKeyId")
        or request.GET.get("X-Amz-Credential", "").split("/", 1)[0]
        or claimed_credential(signed).removeprefix("access key ")
    )
    throttled = auth_failure_record(
        credential=f"access key {key_id}" if key_id else "", address=client_address(request)
    )
    if throttled is None:
        return exc
    return S3Error("SlowDown", f"Please reduce your request rate. {throttled.message}", status=429)


# How long a worker keeps an access key and its decrypted secret, so that a run of requests
# signed with it costs no query (nor a database connection) and no decryption each: a key revoked,
# or its user deactivated, is refused by every worker at most this late. Keys not found are never
# kept.
CREDENTIALS_CACHE_SECONDS = 5.0
_CREDENTIALS_CACHE_SIZE = 4096
_credentials_cache: dict[str, tuple[float, object, str]] = {}


def _credentials(access_key_id: str):
    cached = _credentials_cache.get(access_key_id)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1], cached[2]
    credentials = access_key_credentials(access_key_id=access_key_id)
    if credentials is not None:
        if len(_credentials_cache) >= _CREDENTIALS_CACHE_SIZE:
            _credentials_cache.clear()
        key, secret = credentials
        _credentials_cache[access_key_id] = (
            time.monotonic() + CREDENTIALS_CACHE_SECONDS,
            key,
            secret,
        )
    if credentials is None:
        raise S3Error(
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
            status=403,
            AWSAccessKeyId=access_key_id,
        )
    return credentials


def _mark_used(key) -> None:
    """``access_key_mark_used``, remembered on the cached key so that its next requests within
    the minute do not write again."""
    access_key_mark_used(key=key)
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        key.last_used_at = now


def _header_signed(signed: sigv4.SignedRequest) -> Caller:
    with _as_s3_errors():
        credential, _, signature = sigv4.parse_authorization(signed.headers)
    payload = signed.headers.get("x-amz-content-sha256", "").strip()
    if not payload:
        raise S3Error(
            "InvalidRequest", "Missing required header for this request: x-amz-content-sha256"
        )
    if payload.endswith("-TRAILER") and payload != STREAMING_UNSIGNED_TRAILER:
        raise S3Error("NotImplemented", f"x-amz-content-sha256 {payload} is not implemented.")
    key, secret = _credentials(credential.access_key_id)
    with _as_s3_errors():
        sigv4.verify(
            signed,
            secret=secret,
            region=settings.SAGEMAKER_REGION,
            service=SERVICE,
            content_sha256=payload,
        )
    _mark_used(key)
    chunk_signing = None
    if payload == STREAMING_SIGNED:
        chunk_signing = ChunkSigning(
            key=sigv4.signing_key(secret, credential.date, credential.region, SERVICE),
            amz_date=signed.headers["x-amz-date"],
            scope=f"{credential.date}/{credential.region}/{SERVICE}/aws4_request",
            seed_signature=signature,
        )
    return Caller(user=key.user, payload=payload, chunk_signing=chunk_signing)


def _presigned(signed: sigv4.SignedRequest, raw_credential: str) -> Caller:
    access_key_id = raw_credential.split("/", 1)[0]
    key, secret = _credentials(access_key_id)
    with _as_s3_errors():
        sigv4.verify_presigned(
            signed, secret=secret, region=settings.SAGEMAKER_REGION, service=SERVICE
        )
    _mark_used(key)
    return Caller(user=key.user, payload=UNSIGNED)


# Query parameters that a version-2 presigned URL's signature covers, besides the path.
_V2_SIGNED_PARAMETERS = [
    "acl",
    "cors",
    "delete",
    "lifecycle",
    "location",
    "logging",
    "notification",
    "partNumber",
    "policy",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
]


def is_presigned_v2(request: HttpRequest) -> bool:
    return {"AWSAccessKeyId", "Signature", "Expires"} <= set(request.GET)


def _presigned_v2(request: HttpRequest) -> Caller:
    """A presigned URL of S3's older query signature (HMAC-SHA1), which boto3's
    ``generate_presigned_url`` makes unless the client is configured for ``s3v4``."""
    query = request.GET
    key, secret = _credentials(query.get("AWSAccessKeyId", ""))
    expires = query.get("Expires", "")
    if not expires.isdigit():
        raise S3Error(
            "AccessDenied", "Expires must be a time in seconds since the epoch.", status=403
        )
    if int(expires) < time.time():
        raise S3Error("AccessDenied", "Request has expired", status=403)
    signed_parameters = sorted(name for name in query if name in _V2_SIGNED_PARAMETERS)
    resource = quote(request.path, safe="/~")
    if signed_parameters:
        resource += "?" + "&".join(
            name if query[name] == "" else f"{name}={query[name]}" for name in signed_parameters
        )
    string_to_sign = "\n".join(
        [
            request.method or "GET",
            request.headers.get("Content-MD5", ""),
            # Only a request with a body has a Content-Type (a WSGI server may make one up).
            request.headers.get("Content-Type", "") if request.method in ("PUT", "POST") else "",
            expires,
            resource,
        ]
    )
    expected = base64.b64encode(
        hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha1).digest()
    ).decode()
    if not hmac.compare_digest(expected, query.get("Signature", "")):
        raise S3Error(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
            status=403,
        )
    _mark_used(key)
    return Caller(user=key.user, payload=UNSIGNED)


class _as_s3_errors:
    """SigV4's refusals as S3 names them."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, traceback) -> None:
        if not isinstance(exc, sigv4.SignatureError):
            return
        message = exc.message
        if exc.code in ("IncompleteSignatureException", "AuthorizationQueryParametersError"):
            code, status = (
                (
                    "AuthorizationHeaderMalformed"
                    if exc.code == "IncompleteSignatureException"
                    else exc.code
                ),
                400,
            )
        elif exc.code == "AccessDenied":
            code, status = "AccessDenied", 403
        elif message.startswith(("Signature expired", "Signature not yet")):
            code, status = "RequestTimeTooSkewed", 403
        elif message.startswith(("Credential should be scoped", "Date in")):
            code, status = "AuthorizationHeaderMalformed", 400
        else:
            code, status = "SignatureDoesNotMatch", 403
        raise S3Error(code, message, status=status) from exc
