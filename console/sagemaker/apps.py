from django.apps import AppConfig


class SagemakerConfig(AppConfig):
    name = "console.sagemaker"
    label = "sagemaker"
    default_auto_field = "django.db.models.BigAutoField"
