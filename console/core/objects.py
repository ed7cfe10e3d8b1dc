"""The console's object browser: buckets, prefixes, upload, download, delete.

A user sees and touches only the buckets they may reach (``console.buckets``): their own, or
every one for staff. Someone else's bucket is answered as if it did not exist.
"""

from __future__ import annotations

import posixpath

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from console.buckets.errors import BucketForbidden, BucketTaken
from console.buckets.selectors import bucket_check, bucket_check_uri, bucket_list
from console.buckets.services import bucket_create as create_bucket
from console.core.errors import NotFound, ValidationError
from console.labeling.selectors import labeling_object_shown_to_worker
from infra.storage import ObjectNotFound, StorageError, get_store, parse_uri


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
        names = [name for name, _ in bucket_list(user=request.user)]
        return render(request, "core/buckets.html", {"buckets": names})
    try:
        bucket_check(user=request.user, name=bucket)
        listing = store.browse(f"s3://{bucket}/{prefix}")
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
