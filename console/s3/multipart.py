"""S3's multipart upload: Create, UploadPart, Complete, Abort, ListParts and
ListMultipartUploads, over ``infra.storage.uploads`` (parts staged on local disk)."""

from __future__ import annotations

import functools

from django.http import HttpRequest, HttpResponse

from console.core.names import account_id_for
from console.s3 import documents
from console.s3.auth import Caller
from console.s3.body import body_reader, content_length, read_small_body
from console.s3.buckets import check_access, owner_xml
from console.s3.errors import S3Error
from console.s3.objects import check_size, object_uri
from console.s3.responses import element, etag, timestamp, xml_response
from infra.config import settings
from infra.storage import get_store
from infra.storage.uploads import MAX_PART_NUMBER, MultipartUploads, Upload, UploadNotFound

MAX_PART_SIZE = 5 * 1024**3
MAX_PARTS_LISTED = 1000


@functools.cache
def uploads() -> MultipartUploads:
    return MultipartUploads(settings().data_dir / "uploads", get_store())


def _upload(request: HttpRequest, bucket: str, key: str) -> Upload:
    upload_id = request.GET.get("uploadId", "")
    upload = uploads().get(upload_id)
    if (upload.bucket, upload.key) != (bucket, key):
        raise UploadNotFound(upload_id)
    return upload


def _part_number(request: HttpRequest) -> int:
    raw = request.GET.get("partNumber", "")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PART_NUMBER:
        raise S3Error(
            "InvalidArgument",
            f"Part number must be an integer between 1 and {MAX_PART_NUMBER}, inclusive",
            ArgumentName="partNumber",
            ArgumentValue=raw,
        )
    return int(raw)


def create(request: HttpRequest, caller: Caller, bucket: str, key: str) -> HttpResponse:
    check_access(request, caller, bucket)
    object_uri(bucket, key)
    upload = uploads().create(bucket=bucket, key=key, initiator=account_id_for(caller.user.pk))
    return xml_response(
        "InitiateMultipartUploadResult",
        element("Bucket", bucket) + element("Key", key) + element("UploadId", upload.upload_id),
    )


def upload_part(request: HttpRequest, caller: Caller, bucket: str, key: str) -> HttpResponse:
    check_access(request, caller, bucket)
    number = _part_number(request)
    upload = _upload(request, bucket, key)
    length = content_length(request)
    check_size(length, limit=MAX_PART_SIZE, what="a part")
    reader = _Counted(body_reader(request, caller), length)
    part = uploads().write_part(upload.upload_id, number, reader)
    response = HttpResponse(status=200)
    response["ETag"] = etag(part.etag)
    return response


class _Counted:
    """A body reader that refuses, at its end, a body not of the declared length."""

    def __init__(self, reader, length: int) -> None:
        self._reader = reader
        self._length = length
        self._read = 0

    def read(self, size: int = -1) -> bytes:
        data = self._reader.read(size)
        self._read += len(data)
        if not data and self._read != self._length:
            raise S3Error(
                "IncompleteBody",
                f"You did not provide the number of bytes specified by the Content-Length HTTP "
                f"header ({self._read} of {self._length}).",
            )
        return data


def complete(request: HttpRequest, caller: Caller, bucket: str, key: str) -> HttpResponse:
    check_access(request, caller, bucket)
    upload = _upload(request, bucket, key)
    document = documents.parse(read_small_body(request, caller), "CompleteMultipartUpload")
    chosen = []
    for part in documents.children(document, "Part"):
        number, tag = documents.text(part, "PartNumber"), documents.text(part, "ETag")
        if number is None or tag is None or not number.strip().isdigit():
            raise documents.malformed("each Part needs a PartNumber and an ETag")
        chosen.append((int(number), tag.strip()))
    info = uploads().complete(upload.upload_id, chosen, content_type="application/octet-stream")
    return xml_response(
        "CompleteMultipartUploadResult",
        element("Location", f"/{bucket}/{key}")
        + element("Bucket", bucket)
        + element("Key", key)
        + element("ETag", etag(info.etag)),
    )


def abort(request: HttpRequest, caller: Caller, bucket: str, key: str) -> HttpResponse:
    check_access(request, caller, bucket)
    uploads().abort(_upload(request, bucket, key).upload_id)
    return HttpResponse(status=204)


def list_parts(request: HttpRequest, caller: Caller, bucket: str, key: str) -> HttpResponse:
    check_access(request, caller, bucket)
    upload = _upload(request, bucket, key)
    marker_text = request.GET.get("part-number-marker", "0") or "0"
    limit_text = request.GET.get("max-parts", str(MAX_PARTS_LISTED))
    if not marker_text.isdigit() or not limit_text.isdigit():
        raise S3Error("InvalidArgument", "part-number-marker and max-parts must be whole numbers.")
    marker, limit = int(marker_text), min(int(limit_text), MAX_PARTS_LISTED)
    later = [part for part in uploads().parts(upload.upload_id) if part.number > marker]
    shown, truncated = later[:limit], len(later) > limit
    parts = "".join(
        "<Part>"
        + element("PartNumber", part.number)
        + element("LastModified", timestamp(part.last_modified))
        + element("ETag", etag(part.etag))
        + element("Size", part.size)
        + "</Part>"
        for part in shown
    )
    initiator = (
        f"<Initiator>{element('ID', upload.initiator)}"
        f"{element('DisplayName', caller.user.username)}</Initiator>"
    )
    return xml_response(
        "ListPartsResult",
        element("Bucket", bucket)
        + element("Key", key)
        + element("UploadId", upload.upload_id)
        + initiator
        + owner_xml(caller.user)
        + element("StorageClass", "STANDARD")
        + element("PartNumberMarker", marker)
        + element("NextPartNumberMarker", shown[-1].number if shown else marker)
        + element("MaxParts", limit)
        + element("IsTruncated", "true" if truncated else "false")
        + parts,
    )


def list_uploads(request: HttpRequest, caller: Caller, bucket: str) -> HttpResponse:
    check_access(request, caller, bucket)
    prefix = request.GET.get("prefix", "")
    entries = "".join(
        "<Upload>"
        + element("Key", upload.key)
        + element("UploadId", upload.upload_id)
        + element("Initiated", timestamp(upload.initiated))
        + element("StorageClass", "STANDARD")
        + "</Upload>"
        for upload in uploads().list(bucket)
        if upload.key.startswith(prefix)
    )
    return xml_response(
        "ListMultipartUploadsResult",
        element("Bucket", bucket)
        + element("Prefix", prefix)
        + element("MaxUploads", MAX_PARTS_LISTED)
        + element("IsTruncated", "false")
        + entries,
    )
