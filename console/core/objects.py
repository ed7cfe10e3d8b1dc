"""The console's object browser: buckets, prefixes, upload, download, delete."""

from __future__ import annotations

import posixpath

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from infra.storage import ObjectNotFound, StorageError, get_store, parse_uri
from infra.storage.base import BUCKET_NAME


def _browse_url(bucket: str = "", prefix: str = "") -> str:
    if not bucket:
        return reverse("objects")
    if not prefix:
        return reverse("objects-bucket", kwargs={"bucket": bucket})
    return reverse("objects-browse", kwargs={"bucket": bucket, "prefix": prefix})


@login_required
def objects(request, bucket: str = "", prefix: str = ""):
    store = get_store()
    if not bucket:
        return render(request, "core/buckets.html", {"buckets": store.list_buckets()})
    try:
        listing = store.browse(f"s3://{bucket}/{prefix}")
    except StorageError as exc:
        messages.error(request, str(exc))
        return redirect("objects")
    crumbs, walked = [], ""
    for part in [p for p in prefix.split("/") if p]:
        walked += part + "/"
        crumbs.append((part, _browse_url(bucket, walked)))
    folders = [
        (uri.rstrip("/").rsplit("/", 1)[-1] + "/", _browse_url(bucket, parse_uri(uri)[1]))
        for uri in listing.prefixes
    ]
    return render(
        request,
        "core/objects.html",
        {
            "bucket": bucket,
            "prefix": prefix,
            "crumbs": crumbs,
            "folders": folders,
            "objects": listing.objects,
        },
    )


@login_required
@require_POST
def bucket_create(request):
    name = request.POST.get("bucket", "").strip()
    if not BUCKET_NAME.match(name):
        messages.error(
            request,
            f"Bucket name {name!r} must be 3-63 lower-case letters, digits, dots or hyphens, "
            "starting and ending with a letter or digit.",
        )
        return redirect("objects")
    get_store().create_bucket(name)
    messages.success(request, f"Bucket {name} created.")
    return redirect(_browse_url(name))


@login_required
@require_POST
def object_upload(request, bucket: str, prefix: str = ""):
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
        store.stat(uri)
        reader = store.open_read(uri)
    except (ObjectNotFound, StorageError):
        raise Http404(f"No object at {uri}") from None
    return FileResponse(reader, as_attachment=True, filename=posixpath.basename(uri))


@login_required
@require_POST
def object_delete(request):
    uri = request.POST.get("uri", "")
    try:
        bucket, key = parse_uri(uri)
        get_store().delete(uri)
    except StorageError as exc:
        messages.error(request, str(exc))
        return redirect("objects")
    messages.success(request, f"Deleted {uri}.")
    return redirect(_browse_url(bucket, posixpath.dirname(key) + "/" if "/" in key else ""))
