from django.apps import AppConfig


class EndpointsConfig(AppConfig):
    name = "console.endpoints"
    label = "endpoints"
    default_auto_field = "django.db.models.BigAutoField"
