"""Who owns each bucket of the object store: the console's object browser and the S3 API let a
user reach only their own buckets. The objects themselves live in the store, never here."""

from django.conf import settings
from django.db import models


class Bucket(models.Model):
    name = models.CharField(max_length=63, unique=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="buckets"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
