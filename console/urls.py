"""URL routes: the console, the REST API, the SageMaker API (``POST /``) and the runtime route."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import JsonResponse
from django.urls import include, path
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from console.accounts import api as accounts_api
from console.accounts import views as accounts_views
from console.core import health, objects, views
from console.core.api import API_PREFIX, error_body
from console.registry import api as registry_api
from console.registry import views as registry_views
from console.sagemaker.runtime import invoke_endpoint
from console.sagemaker.views import is_sagemaker_request, sagemaker_api
from console.training import api as training_api
from console.training import views as training_views


def not_found(request, exception):
    """A path no route takes: under the REST API, the REST error shape; else the HTML page."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse(error_body(f"Nothing is at {request.path}."), status=404)
    return defaults.page_not_found(request, exception)


handler404 = not_found


@csrf_exempt  # the SageMaker API authenticates by signature, not by cookie
def root(request):
    """``POST /`` with X-Amz-Target is the SageMaker API; anything else is the console home."""
    if is_sagemaker_request(request):
        return sagemaker_api(request)
    return views.home(request)


def resource_api(prefix: str, list_view, detail_view):
    return [
        path(f"{prefix}/", list_view.as_view(), name=f"api-{prefix}"),
        path(f"{prefix}/<str:name>/", detail_view.as_view(), name=f"api-{prefix}-detail"),
    ]


api_v1 = [
    *resource_api(
        "training-jobs", training_api.TrainingJobListView, training_api.TrainingJobDetailView
    ),
    path(
        "training-jobs/<str:name>/stop/",
        training_api.TrainingJobStopView.as_view(),
        name="api-training-jobs-stop",
    ),
    *resource_api("models", registry_api.ModelListView, registry_api.ModelDetailView),
    path("access-keys/", accounts_api.AccessKeyListView.as_view(), name="api-access-keys"),
    path(
        "access-keys/<str:access_key_id>/",
        accounts_api.AccessKeyRevokeView.as_view(),
        name="api-access-key",
    ),
]

urlpatterns = [
    path("", root, name="home"),
    path(
        "endpoints/<str:endpoint_name>/invocations",
        invoke_endpoint,
        name="invoke-endpoint",
    ),
    path("login/", accounts_views.SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("status/", views.status, name="status"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("access-keys/", accounts_views.access_keys, name="access-keys"),
    path("access-keys/new", accounts_views.access_key_new, name="access-key-new"),
    path(
        "access-keys/<str:access_key_id>/revoke",
        accounts_views.access_key_delete,
        name="access-key-revoke",
    ),
    path("objects/", objects.objects, name="objects"),
    path("", include("console.buckets.urls")),
    path("objects/new-bucket", objects.bucket_create, name="bucket-create"),
    path("objects/download", objects.object_download, name="object-download"),
    path("objects/delete", objects.object_delete, name="object-delete"),
    path("objects/upload/<str:bucket>/<path:prefix>", objects.object_upload, name="object-upload"),
    path("objects/upload/<str:bucket>/", objects.object_upload, name="object-upload-root"),
    path("objects/<str:bucket>/", objects.objects, name="objects-bucket"),
    path("objects/<str:bucket>/<path:prefix>", objects.objects, name="objects-browse"),
    path("training-jobs/", training_views.training_jobs, name="training-jobs"),
    path("training-jobs/new", training_views.training_job_new, name="training-job-new"),
    path("", include("console.training.urls")),
    path("training-jobs/<str:name>/", training_views.training_job, name="training-job"),
    path(
        "training-jobs/<str:name>/stop",
        training_views.training_job_stop_view,
        name="training-job-stop",
    ),
    path("", include("console.tuning.urls")),
    path("models/", registry_views.models, name="models"),
    path("models/new", registry_views.model_new, name="model-new"),
    path("models/<str:name>/", registry_views.model, name="model"),
    path("models/<str:name>/delete", registry_views.model_delete_view, name="model-delete"),
    path("", include("console.registry.urls")),
    path("", include("console.endpoints.urls")),
    path("", include("console.transform.urls")),
    path("", include("console.processing.urls")),
    path("", include("console.labeling.urls")),
    path("", include("console.pipelines.urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]
