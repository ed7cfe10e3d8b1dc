from django.apps import AppConfig


class TransformConfig(AppConfig):
    name = "console.transform"
    label = "transform"
    default_auto_field = "django.db.models.BigAutoField"
