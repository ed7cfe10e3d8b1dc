"""AWS Signature Version 4 verification of incoming requests, against the caller's access key.

The canonical request is rebuilt from what the client actually signed (its SignedHeaders list),
so SDKs that sign extra headers (the Go v2 SDK's ``amz-sdk-*``) verify too. The payload hash is
always that of the body received: a client's ``X-Amz-Content-Sha256`` must equal it, so a
signature made for one body never covers another. The credential scope must name this
service, this platform's region and the day of ``X-Amz-Date``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote

MAX_CLOCK_SKEW = timedelta(minutes=15)
SERVICE = "sagemaker"
_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+),\s*"
    r"SignedHeaders=(?P<signed_headers>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]{64})$"
)


class SignatureError(Exception):
    """The request is not correctly signed. ``code`` is the AWS error code to answer with."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class SignedRequest:
    method: str
    path: str  # decoded path, e.g. "/" or "/endpoints/x/invocations"
    query_string: str
    headers: dict[str, str]  # lower-cased names
    body: bytes


@dataclass(frozen=True)
class Credential:
    access_key_id: str
    date: str
    region: str
    service: str


def parse_authorization(headers: dict[str, str]) -> tuple[Credential, list[str], str]:
    header = headers.get("authorization", "")
    if not header:
        raise SignatureError("MissingAuthenticationTokenException", "Missing Authentication Token")
    match = _AUTHORIZATION.match(header.strip())
    if not match:
        raise SignatureError(
            "IncompleteSignatureException",
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' "
            "of an AWS4-HMAC-SHA256 signature.",
        )
    parts = match["credential"].split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise SignatureError(
            "IncompleteSignatureException",
            "Credential must have the form <AccessKeyId>/<date>/<region>/<service>/aws4_request.",
        )
    credential = Credential(*parts[:4])
    return credential, match["signed_headers"].split(";"), match["signature"]


def _canonical_query(query_string: str) -> str:
    pairs = parse_qsl(query_string, keep_blank_values=True)
    return "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(pairs))


def payload_hash(request: SignedRequest) -> str:
    """The SHA-256 of the body received; SignatureError if the client claims another."""
    actual = hashlib.sha256(request.body).hexdigest()
    claimed = request.headers.get("x-amz-content-sha256")
    if claimed is not None and claimed.strip().lower() != actual:
        raise SignatureError(
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        )
    return actual


def check_scope(
    credential: Credential, *, signed_at: datetime, region: str, service: str = SERVICE
) -> None:
    """The scope must be ``<X-Amz-Date's day>/<region>/<service>/aws4_request``."""
    if credential.date != f"{signed_at:%Y%m%d}":
        raise SignatureError(
            "InvalidSignatureException",
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            f"from HTTP: '{credential.date}' != '{signed_at:%Y%m%d}', "
            f"from '{signed_at:%Y%m%dT%H%M%SZ}'.",
        )
    if credential.service != service:
        raise SignatureError(
            "InvalidSignatureException",
            f"Credential should be scoped to correct service: '{service}'.",
        )
    if credential.region != region:
        raise SignatureError(
            "InvalidSignatureException",
            f"Credential should be scoped to a valid region, not '{credential.region}'. "
            f"This platform's region is '{region}'.",
        )


def _canonical_request(
    request: SignedRequest, signed_headers: list[str], content_sha256: str | None = None
) -> str:
    missing = [name for name in signed_headers if name not in request.headers]
    if missing:
        raise SignatureError(
            "InvalidSignatureException", f"Signed header {missing[0]!r} is not in the request."
        )
    canonical_headers = "".join(
        f"{name}:{' '.join(request.headers[name].split())}\n" for name in signed_headers
    )
    return "\n".join(
        [
            request.method,
            quote(request.path, safe="/~"),
            _canonical_query(request.query_string),
            canonical_headers,
            ";".join(signed_headers),
            payload_hash(request) if content_sha256 is None else content_sha256,
        ]
    )


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def request_time(headers: dict[str, str]) -> datetime:
    raw = headers.get("x-amz-date", "")
    try:
        return datetime.strptime(raw, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise SignatureError(
            "IncompleteSignatureException", "X-Amz-Date must be given as YYYYMMDDTHHMMSSZ."
        ) from None


def verify(
    request: SignedRequest,
    *,
    secret: str,
    region: str,
    now: datetime | None = None,
    service: str = SERVICE,
    content_sha256: str | None = None,
) -> Credential:
    """Check the signature of ``request`` made with ``secret`` for ``region``; raise
    SignatureError if wrong.

    ``content_sha256``: the payload hash the signature covers, as the client declared it, for a
    service whose bodies are streamed (S3: the caller checks the body against it as it reads, or
    it is ``UNSIGNED-PAYLOAD``); by default the hash of ``request.body``.
    """
    credential, signed_headers, signature = parse_authorization(request.headers)
    signed_at = request_time(request.headers)
    check_time(signed_at, now or datetime.now(UTC))
    check_scope(credential, signed_at=signed_at, region=region, service=service)
    canonical = _canonical_request(request, signed_headers, content_sha256)
    check_signature(canonical, request.headers["x-amz-date"], credential, signature, secret=secret)
    return credential


def check_time(signed_at: datetime, now: datetime) -> None:
    if abs(now - signed_at) > MAX_CLOCK_SKEW:
        raise SignatureError(
            "InvalidSignatureException",
            f"Signature expired: {signed_at:%Y%m%dT%H%M%SZ} is now earlier than "
            f"{now - MAX_CLOCK_SKEW:%Y%m%dT%H%M%SZ} ({now:%Y%m%dT%H%M%SZ} - 15 min.)"
            if signed_at < now
            else f"Signature not yet current: {signed_at:%Y%m%dT%H%M%SZ} is still later than "
            f"{now + MAX_CLOCK_SKEW:%Y%m%dT%H%M%SZ} ({now:%Y%m%dT%H%M%SZ} + 15 min.)",
        )


def check_signature(
    canonical: str, amz_date: str, credential: Credential, signature: str, *, secret: str
) -> None:
    """The signature of the canonical request must be the one the client sent."""
    scope = f"{credential.date}/{credential.region}/{credential.service}/aws4_request"
    string_to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = signing_key(secret, credential.date, credential.region, credential.service)
    expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise SignatureError(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method.",
        )


MAX_PRESIGNED_EXPIRY = timedelta(days=7)


def presigned_credential(query: dict[str, str]) -> Credential | None:
    """The credential a presigned URL's ``X-Amz-Credential`` names; None if it has none."""
    parts = query.get("X-Amz-Credential", "").split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        return None
    return Credential(*parts[:4])


def verify_presigned(
    request: SignedRequest,
    *,
    secret: str,
    region: str,
    service: str,
    now: datetime | None = None,
) -> Credential:
    """Check a presigned URL (the signature in the query string, the payload unsigned)."""
    query = dict(parse_qsl(request.query_string, keep_blank_values=True))
    credential = presigned_credential(query)
    if query.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" or credential is None:
        raise SignatureError(
            "AuthorizationQueryParametersError",
            "X-Amz-Algorithm must be AWS4-HMAC-SHA256 and X-Amz-Credential "
            "<AccessKeyId>/<date>/<region>/<service>/aws4_request.",
        )
    signed_at = request_time({"x-amz-date": query.get("X-Amz-Date", "")})
    try:
        expires = timedelta(seconds=int(query.get("X-Amz-Expires", "")))
    except ValueError:
        raise SignatureError(
            "AuthorizationQueryParametersError", "X-Amz-Expires must be a number of seconds."
        ) from None
    if not timedelta(0) < expires <= MAX_PRESIGNED_EXPIRY:
        raise SignatureError(
            "AuthorizationQueryParametersError",
            "X-Amz-Expires must be more than 0 and at most 604800 seconds.",
        )
    now = now or datetime.now(UTC)
    if now > signed_at + expires:
        raise SignatureError("AccessDenied", "Request has expired.")
    if signed_at - now > MAX_CLOCK_SKEW:
        raise SignatureError("AccessDenied", "Request is not yet valid.")
    check_scope(credential, signed_at=signed_at, region=region, service=service)
    unsigned_query = "&".join(
        part for part in request.query_string.split("&") if not part.startswith("X-Amz-Signature=")
    )
    canonical = _canonical_request(
        SignedRequest(
            method=request.method,
            path=request.path,
            query_string=unsigned_query,
            headers=request.headers,
            body=b"",
        ),
        query.get("X-Amz-SignedHeaders", "host").split(";"),
        "UNSIGNED-PAYLOAD",
    )
    check_signature(
        canonical, query["X-Amz-Date"], credential, query.get("X-Amz-Signature", ""), secret=secret
    )
    return credential
