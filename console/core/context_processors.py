"""Template context every console page gets: navigation and the Prefect UI link."""

from infra.config import settings

NAVIGATION = [
    ("Training jobs", "training-jobs"),
    ("Tuning jobs", "tuning-jobs"),
    ("Models", "models"),
    ("Endpoints", "endpoints"),
    ("Endpoint configs", "endpoint-configs"),
    ("Batch transform", "transform-jobs"),
    ("Processing", "processing-jobs"),
    ("Labeling", "labeling-jobs"),
    ("Pipelines", "pipelines"),
    ("Model registry", "model-package-groups"),
    ("Labeling queue", "labeling-queue"),
    ("Objects", "objects"),
    ("Access keys", "access-keys"),
    ("Status", "status"),
]


def platform(request):
    return {"navigation": NAVIGATION, "prefect_ui_url": settings().prefect_ui_url}
