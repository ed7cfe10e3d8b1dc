"""Access keys: the credentials scripts and boto3 use. The secret is stored encrypted, never
returned after creation, because SigV4 verification needs the secret itself (a hash cannot sign)."""

from django.conf import settings
from django.db import models


class AccessKey(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_keys"
    )
    access_key_id = models.CharField(max_length=32, unique=True)
    encrypted_secret = models.BinaryField()
    description = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.access_key_id

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
