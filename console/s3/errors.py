"""S3's errors: the code, the HTTP status and the XML document, mapped in one place.

Nothing answers 5xx on purpose: botocore retries those. An operation this adapter does not
offer is ``NotImplemented`` with status 400 for that reason (S3 itself says 501).
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from django.http import HttpResponse

from console.buckets.errors import BucketForbidden, BucketTaken
from console.core import errors as service_errors
from infra.storage import (
    BucketNotEmpty,
    BucketNotFound,
    InvalidURI,
    ObjectNotFound,
    StorageError,
)
from infra.storage.uploads import InvalidPart, InvalidPartOrder, PartTooSmall, UploadNotFound


class S3Error(Exception):
    def __init__(self, code: str, message: str, *, status: int = 400, **details: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.details = details
        self.headers: dict[str, str] = {}


def not_implemented(what: str) -> S3Error:
    return S3Error("NotImplemented", f"{what} is not implemented by this platform's S3 API.")


def access_denied(message: str = "Access Denied") -> S3Error:
    return S3Error("AccessDenied", message, status=403)


def from_exception(exc: Exception, *, bucket: str = "", key: str = "") -> S3Error:
    """The S3 error for a storage or service error met while answering for bucket/key."""
    match exc:
        case S3Error():
            return exc
        case BucketNotFound() | service_errors.NotFound():
            return S3Error(
                "NoSuchBucket", "The specified bucket does not exist", status=404, BucketName=bucket
            )
        case ObjectNotFound():
            return S3Error("NoSuchKey", "The specified key does not exist.", status=404, Key=key)
        case BucketForbidden():
            return access_denied()
        case BucketTaken(yours=True):
            return S3Error(
                "BucketAlreadyOwnedByYou",
                "Your previous request to create the named bucket succeeded and you already "
                "own it.",
                status=409,
                BucketName=bucket,
            )
        case BucketTaken():
            return S3Error(
                "BucketAlreadyExists",
                "The requested bucket name is not available. The bucket namespace is shared by "
                "all users of the system. Please select a different name and try again.",
                status=409,
                BucketName=bucket,
            )
        case BucketNotEmpty():
            return S3Error(
                "BucketNotEmpty",
                "The bucket you tried to delete is not empty",
                status=409,
                BucketName=bucket,
            )
        case service_errors.ValidationError():
            return S3Error(
                "InvalidBucketName", "The specified bucket is not valid.", BucketName=bucket
            )
        case InvalidURI():
            return S3Error("InvalidArgument", f"The key is refused: {exc.rule}.", Key=key)
        case UploadNotFound():
            return S3Error(
                "NoSuchUpload",
                "The specified upload does not exist. The upload ID may be invalid, or the upload "
                "may have been aborted or completed.",
                status=404,
            )
        case InvalidPartOrder():
            return S3Error("InvalidPartOrder", str(exc))
        case InvalidPart():
            return S3Error("InvalidPart", str(exc))
        case PartTooSmall():
            return S3Error("EntityTooSmall", str(exc))
        case StorageError():  # what the backend cannot hold, e.g. both "a" and "a/b" locally
            return S3Error("InvalidRequest", str(exc), Key=key)
    raise exc


def error_response(error: S3Error, *, resource: str, request_id: str, head: bool) -> HttpResponse:
    details = "".join(
        f"<{name}>{escape(value)}</{name}>" for name, value in error.details.items() if value
    )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(error.code)}</Code><Message>{escape(error.message)}</Message>"
        f"{details}<Resource>{escape(resource)}</Resource>"
        f"<RequestId>{request_id}</RequestId></Error>"
    )
    response = HttpResponse(b"" if head else body.encode(), status=error.status)
    response["Content-Type"] = "application/xml"
    response["x-amz-request-id"] = request_id
    for name, value in error.headers.items():
        response[name] = value
    return response
