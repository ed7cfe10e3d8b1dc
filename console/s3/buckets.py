"""S3's bucket operations: ListBuckets, Create/Head/Delete Bucket, GetBucketLocation,
ListObjectsV2 and ListObjects, DeleteObjects."""

from __future__ import annotations

import base64
import binascii
import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from console.buckets.selectors import bucket_check, bucket_list, bucket_owner
from console.buckets.services import bucket_create, bucket_delete
from console.core.names import account_id_for
from console.s3 import documents
from console.s3.auth import Caller
from console.s3.body import read_small_body
from console.s3.errors import S3Error, access_denied, from_exception
from console.s3.listing import MAX_KEYS, list_page
from console.s3.responses import element, encoded, etag, timestamp, xml_response
from infra.storage import StorageError, get_store, join_uri

EPOCH_TEXT = "1970-01-01T00:00:00.000Z"
MAX_DELETE_KEYS = 1000


def owner_xml(user) -> str:
    account = element("ID", account_id_for(user.pk))
    return f"<Owner>{account}{element('DisplayName', user.username)}</Owner>"


def list_buckets(caller: Caller) -> HttpResponse:
    entries = "".join(
        "<Bucket>"
        + element("Name", name)
        + element("CreationDate", timestamp(created) if created else EPOCH_TEXT)
        + "</Bucket>"
        for name, created in bucket_list(user=caller.user)
    )
    return xml_response(
        "ListAllMyBucketsResult", f"{owner_xml(caller.user)}<Buckets>{entries}</Buckets>"
    )


# How long a worker trusts that a user may reach a bucket, so that a run of requests on the same
# bucket costs no listing of the store and no query each. A bucket deleted meanwhile is still
# refused at once (the store has no such bucket); one given to another owner behind the S3 API's
# back is refused by this worker at most this late.
ACCESS_CACHE_SECONDS = 5.0
_ACCESS_CACHE_SIZE = 4096
_reachable: dict[tuple[int, str], float] = {}


def check_access(request: HttpRequest, caller: Caller, bucket: str) -> None:
    """The caller may reach the bucket, and it is owned by the account the request expects."""
    cache_key = (caller.user.pk, bucket)
    if _reachable.get(cache_key, 0.0) < time.monotonic():
        bucket_check(user=caller.user, name=bucket)
        if len(_reachable) >= _ACCESS_CACHE_SIZE:
            _reachable.clear()
        _reachable[cache_key] = time.monotonic() + ACCESS_CACHE_SECONDS
    expected = request.headers.get("x-amz-expected-bucket-owner")
    if expected is not None:
        owner = bucket_owner(name=bucket)
        if owner is None or account_id_for(owner.pk) != expected:
            raise access_denied()


def _forget(bucket: str) -> None:
    for cache_key in [cache_key for cache_key in _reachable if cache_key[1] == bucket]:
        _reachable.pop(cache_key, None)


def create(request: HttpRequest, caller: Caller, bucket: str) -> HttpResponse:
    body = read_small_body(request, caller)
    if body.strip():
        constraint = documents.text(
            documents.parse(body, "CreateBucketConfiguration"), "LocationConstraint"
        )
        if constraint not in (None, "", settings.SAGEMAKER_REGION):
            raise S3Error(
                "IllegalLocationConstraintException",
                f"The {constraint!r} location constraint is incompatible with this platform's "
                f"region, {settings.SAGEMAKER_REGION!r}.",
            )
    bucket_create(user=caller.user, name=bucket)
    response = HttpResponse(status=200)
    response["Location"] = f"/{bucket}"
    return response


def head(request: HttpRequest, caller: Caller, bucket: str) -> HttpResponse:
    check_access(request, caller, bucket)
    response = HttpResponse(status=200)
    response["x-amz-bucket-region"] = settings.SAGEMAKER_REGION
    return response


def delete(request: HttpRequest, caller: Caller, bucket: str) -> HttpResponse:
    _forget(bucket)
    check_access(request, caller, bucket)
    bucket_delete(user=caller.user, name=bucket)
    _forget(bucket)
    return HttpResponse(status=204)


def location(request: HttpRequest, caller: Caller, bucket: str) -> HttpResponse:
    check_access(request, caller, bucket)
    region = settings.SAGEMAKER_REGION
    return xml_response("LocationConstraint", "" if region == "us-east-1" else region)


def _max_keys(request: HttpRequest) -> int:
    raw = request.GET.get("max-keys", str(MAX_KEYS))
    try:
        value = int(raw)
    except ValueError:
        raise S3Error("InvalidArgument", f"max-keys {raw!r} is not a whole number.") from None
    if value < 0:
        raise S3Error("InvalidArgument", "max-keys must not be negative.")
    return min(value, MAX_KEYS)


def _encoding_type(request: HttpRequest) -> str:
    value = request.GET.get("encoding-type", "")
    if value not in ("", "url"):
        raise S3Error("InvalidArgument", "Invalid Encoding Method specified in Request")
    return value


def _contents(infos, encoding_type: str, *, with_owner: str = "") -> str:
    return "".join(
        "<Contents>"
        + element("Key", encoded(info.key, encoding_type))
        + element("LastModified", timestamp(info.last_modified))
        + element("ETag", etag(info.etag))
        + element("Size", info.size)
        + with_owner
        + element("StorageClass", "STANDARD")
        + "</Contents>"
        for info in infos
    )


def _common_prefixes(prefixes: list[str], encoding_type: str) -> str:
    return "".join(
        f"<CommonPrefixes>{element('Prefix', encoded(prefix, encoding_type))}</CommonPrefixes>"
        for prefix in prefixes
    )


def list_objects_v2(request: HttpRequest, caller: Caller, bucket: str) -> HttpResponse:
    check_access(request, caller, bucket)
    query = request.GET
    prefix, delimiter = query.get("prefix", ""), query.get("delimiter", "")
    encoding_type, max_keys = _encoding_type(request), _max_keys(request)
    token = query.get("continuation-token")
    after = _token_key(token) if token is not None else query.get("start-after", "")
    page = list_page(
        get_store(), bucket, prefix=prefix, delimiter=delimiter, after=after, max_keys=max_keys
    )
    owner = owner_xml(caller.user) if query.get("fetch-owner") == "true" else ""
    body = (
        element("Name", bucket)
        + element("Prefix", encoded(prefix, encoding_type))
        + (element("Delimiter", encoded(delimiter, encoding_type)) if delimiter else "")
        + element("MaxKeys", max_keys)
        + (element("EncodingType", encoding_type) if encoding_type else "")
        + element("KeyCount", len(page.objects) + len(page.prefixes))
        + element("IsTruncated", "true" if page.truncated else "false")
        + (element("ContinuationToken", token) if token is not None else "")
        + (element("NextContinuationToken", _token(page.last)) if page.truncated else "")
        + (
            element("StartAfter", encoded(query["start-after"], encoding_type))
            if "start-after" in query
            else ""
        )
        + _contents(page.objects, encoding_type, with_owner=owner)
        + _common_prefixes(page.prefixes, encoding_type)
    )
    return xml_response("ListBucketResult", body)


def list_objects(request: HttpRequest, caller: Caller, bucket: str) -> HttpResponse:
    check_access(request, caller, bucket)
    query = request.GET
    prefix, delimiter = query.get("prefix", ""), query.get("delimiter", "")
    marker = query.get("marker", "")
    encoding_type, max_keys = _encoding_type(request), _max_keys(request)
    page = list_page(
        get_store(), bucket, prefix=prefix, delimiter=delimiter, after=marker, max_keys=max_keys
    )
    body = (
        element("Name", bucket)
        + element("Prefix", encoded(prefix, encoding_type))
        + element("Marker", encoded(marker, encoding_type))
        + (element("Delimiter", encoded(delimiter, encoding_type)) if delimiter else "")
        + element("MaxKeys", max_keys)
        + (element("EncodingType", encoding_type) if encoding_type else "")
        + element("IsTruncated", "true" if page.truncated else "false")
        + (
            element("NextMarker", encoded(page.last, encoding_type))
            if page.truncated and delimiter
            else ""
        )
        + _contents(page.objects, encoding_type, with_owner=owner_xml(caller.user))
        + _common_prefixes(page.prefixes, encoding_type)
    )
    return xml_response("ListBucketResult", body)


def _token(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode()


def _token_key(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise S3Error("InvalidArgument", "The continuation token provided is incorrect") from None


def delete_objects(request: HttpRequest, caller: Caller, bucket: str) -> HttpResponse:
    check_access(request, caller, bucket)
    document = documents.parse(read_small_body(request, caller), "Delete")
    quiet = (documents.text(document, "Quiet") or "").strip().lower() == "true"
    keys = [documents.text(entry, "Key") for entry in documents.children(document, "Object")]
    if not keys or len(keys) > MAX_DELETE_KEYS or None in keys:
        raise documents.malformed(f"name 1 to {MAX_DELETE_KEYS} Object elements, each with a Key")
    store, results = get_store(), []
    for key in keys:
        try:
            store.delete(join_uri(bucket, key))
        except StorageError as exc:
            error = from_exception(exc, bucket=bucket, key=key)
            results.append(
                f"<Error>{element('Key', key)}{element('Code', error.code)}"
                f"{element('Message', error.message)}</Error>"
            )
            continue
        if not quiet:
            results.append(f"<Deleted>{element('Key', key)}</Deleted>")
    return xml_response("DeleteResult", "".join(results))
