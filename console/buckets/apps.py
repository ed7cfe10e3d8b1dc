from django.apps import AppConfig


class BucketsConfig(AppConfig):
    name = "console.buckets"
    label = "buckets"
    default_auto_field = "django.db.models.BigAutoField"
