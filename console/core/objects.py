"""The console's object browser: buckets, prefixes, search, new folders, upload, preview,
download, delete.

A user sees and touches only the buckets they may reach (``console.buckets``): their own, or
every one for staff. Someone else's bucket is answered as if it did not exist.
"""

from __future__ import annotations

import csv
import posixpath

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from console.buckets.errors import BucketForbidden, BucketTaken
from console.buckets.selectors import bucket_check, bucket_check_uri, bucket_list, object_head
from console.buckets.services import bucket_create as create_bucket
from console.buckets.services import bucket_delete as delete_bucket
from console.core import paging
from console.core.errors import NotFound, ValidationError
from console.labeling.selectors import labeling_object_shown_to_worker
from infra.storage import BucketNotEmpty, ObjectNotFound, StorageError, get_store, parse_uri


def _browse_url(bucket: str = "", prefix: str = "") -> str:
    if not bucket:
        return reverse("objects")
    if not prefix:
        return reverse("objects-bucket", kwargs={"bucket": bucket})
    return reverse("objects-browse", kwargs={"bucket": bucket, "prefix": prefix})


# Objects whose head is not worth showing as text; any other gets a "Preview" link (the preview
# page still says so when it finds bytes that are not text).
BINARY_SUFFIXES = (
    ".gz", ".tgz", ".tar", ".zip", ".bz2", ".xz", ".zst", ".parquet", ".pkl", ".pickle", ".npy",
    ".npz", ".bin", ".pt", ".pth", ".onnx", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".pdf",
    ".rec", ".recordio", ".joblib", ".model", ".ubj",
)  # fmt: skip


@login_required
def objects(request, bucket: str = "", prefix: str = ""):
    """A bucket's level under a prefix: folders and objects, a page at a time; ``?search=``
    keeps the entries whose names start with it; ``?folder=`` opens a new folder under the
    prefix (S3 has no empty folders: it exists once something is uploaded into it)."""
    if not bucket:
        buckets = [
            {"name": name, "created": created} for name, created in bucket_list(user=request.user)
        ]
        page = paging.page_of(buckets, query=request.GET)
        return render(request, "core/buckets.html", {"page": page})
    if "folder" in request.GET:
        return _new_folder(request, bucket, prefix)
    search = request.GET.get("search", "").strip().lstrip("/")
    try:
        bucket_check(user=request.user, name=bucket)
        listing = get_store().browse(f"s3://{bucket}/{prefix}{search}")
    except (NotFound, BucketForbidden):
        messages.error(request, f"No bucket named {bucket!r}.")
        return redirect("objects")
    except StorageError as exc:
        messages.error(request, str(exc))
        return redirect("objects")
    crumbs, walked = [], ""
    for part in [p for p in prefix.split("/") if p]:
        walked += part + "/"
        crumbs.append((part, _browse_url(bucket, walked)))
    entries = [
        {
            "folder": True,
            "name": parse_uri(uri)[1][len(prefix) :],
            "url": _browse_url(bucket, parse_uri(uri)[1]),
            "uri": uri,
        }
        for uri in listing.prefixes
    ] + [
        {
            "folder": False,
            "name": obj.key[len(prefix) :],
            "uri": obj.uri,
            "size": obj.size,
            "last_modified": obj.last_modified,
            "previewable": not obj.key.lower().endswith(BINARY_SUFFIXES),
        }
        for obj in listing.objects
    ]
    return render(
        request,
        "core/objects.html",
        {
            "bucket": bucket,
            "prefix": prefix,
            "prefix_uri": f"s3://{bucket}/{prefix}",
            "crumbs": crumbs,
            "search": search,
            "page": paging.page_of(entries, query=request.GET),
            "folder_count": len(listing.prefixes),
            "object_count": len(listing.objects),
            "total_size": sum(obj.size for obj in listing.objects),
        },
    )


def _new_folder(request, bucket: str, prefix: str):
    name = request.GET.get("folder", "").strip().strip("/")
    if not name or "/" in name or name in (".", "..") or len(name) > 255:
        messages.error(
            request,
            f"Folder name {name!r} must be 1-255 characters, without '/', and not '.' or '..'.",
        )
        return redirect(_browse_url(bucket, prefix))
    messages.success(
        request,
        f"Folder s3://{bucket}/{prefix}{name}/ opened: it is kept once it holds an object "
        "(S3 has no empty folders). Upload files into it below.",
    )
    return redirect(_browse_url(bucket, f"{prefix}{name}/"))


@login_required
def object_preview(request):
    """The first lines of a text or CSV object (a CSV as a table)."""
    uri = request.GET.get("uri", "")
    try:
        head = object_head(user=request.user, uri=uri)
    except (ObjectNotFound, StorageError, NotFound, BucketForbidden):
        raise Http404(f"No object at {uri}") from None
    bucket, key = parse_uri(uri)
    folder = posixpath.dirname(key) + "/" if "/" in key else ""
    rows = None
    if not head.binary and key.lower().endswith((".csv", ".csv.out", ".tsv")):
        delimiter = "\t" if key.lower().endswith(".tsv") else ","
        rows = list(csv.reader(head.lines, delimiter=delimiter))
    return render(
        request,
        "core/object_preview.html",
        {
            "head": head,
            "rows": rows,
            "bucket": bucket,
            "key": key,
            "folder_url": _browse_url(bucket, folder),
        },
    )


@login_required
@require_POST
def bucket_delete(request):
    name = request.POST.get("bucket", "")
    try:
        delete_bucket(user=request.user, name=name)
    except (NotFound, BucketForbidden):
        messages.error(request, f"No bucket named {name!r}.")
        return redirect("objects")
    except BucketNotEmpty:
        messages.error(
            request, f"Bucket {name} is not empty: delete its objects first, then the bucket."
        )
        return redirect(_browse_url(name))
    except StorageError as exc:
        messages.error(request, str(exc))
        return redirect("objects")
    messages.success(request, f"Bucket {name} deleted.")
    return redirect("objects")


@login_required
@require_POST
def bucket_create(request):
    name = request.POST.get("bucket", "").strip()
    try:
        create_bucket(user=request.user, name=name)
    except ValidationError:
        messages.error(
            request,
            f"Bucket name {name!r} must be 3-63 lower-case letters, digits, dots or hyphens, "
            "starting and ending with a letter or digit.",
        )
        return redirect("objects")
    except BucketTaken as exc:
        messages.error(request, exc.message)
        return redirect("objects")
    messages.success(request, f"Bucket {name} created.")
    return redirect(_browse_url(name))


@login_required
@require_POST
def object_upload(request, bucket: str, prefix: str = ""):
    try:
        bucket_check(user=request.user, name=bucket)
    except (NotFound, BucketForbidden):
        raise Http404(f"No bucket named {bucket!r}") from None
    store = get_store()
    uploads = request.FILES.getlist("files")
    for upload in uploads:
        uri = f"s3://{bucket}/{prefix}{posixpath.basename(upload.name)}"
        with store.open_write(
            uri, content_type=upload.content_type or "application/octet-stream"
        ) as out:
            for chunk in upload.chunks():
                out.write(chunk)
    messages.success(request, f"Uploaded {len(uploads)} file(s) to s3://{bucket}/{prefix}.")
    return redirect(_browse_url(bucket, prefix))


@login_required
def object_download(request):
    uri = request.GET.get("uri", "")
    store = get_store()
    try:
        if not labeling_object_shown_to_worker(user=request.user, uri=uri):
            bucket_check_uri(user=request.user, uri=uri)
        store.stat(uri)
        reader = store.open_read(uri)
    except (ObjectNotFound, StorageError, NotFound, BucketForbidden):
        raise Http404(f"No object at {uri}") from None
    return FileResponse(reader, as_attachment=True, filename=posixpath.basename(uri))


@login_required
@require_POST
def object_delete(request):
    uri = request.POST.get("uri", "")
    try:
        bucket, key = bucket_check_uri(user=request.user, uri=uri)
        get_store().delete(uri)
    except (NotFound, BucketForbidden):
        messages.error(request, f"No object at {uri}.")
        return redirect("objects")
    except StorageError as exc:
        messages.error(request, str(exc))
        return redirect("objects")
    messages.success(request, f"Deleted {uri}.")
    return redirect(_browse_url(bucket, posixpath.dirname(key) + "/" if "/" in key else ""))
