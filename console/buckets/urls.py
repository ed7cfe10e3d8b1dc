"""The object browser's routes beyond browse, upload, download and delete (``console/urls.py``):
an object's preview and a bucket's deletion."""

from django.urls import path

from console.core import objects

urlpatterns = [
    path("objects/preview", objects.object_preview, name="object-preview"),
    path("objects/delete-bucket", objects.bucket_delete, name="bucket-delete"),
]
