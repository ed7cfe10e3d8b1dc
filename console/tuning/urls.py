"""Routes of hyperparameter tuning: console pages and the REST API (included at the site root)."""

from django.urls import path

from console.tuning import api, views

urlpatterns = [
    path("tuning-jobs/", views.tuning_jobs, name="tuning-jobs"),
    path("tuning-jobs/new", views.tuning_job_new, name="tuning-job-new"),
    path("tuning-jobs/new/ranges", views.tuning_job_ranges, name="tuning-job-ranges"),
    path("tuning-jobs/<str:name>/", views.tuning_job, name="tuning-job"),
    path("tuning-jobs/<str:name>/stop", views.tuning_job_stop_view, name="tuning-job-stop"),
    path(
        "tuning-jobs/<str:name>/surrogate.json",
        views.tuning_job_surrogate_json,
        name="tuning-job-surrogate",
    ),
    path("api/v1/tuning-jobs/", api.TuningJobListView.as_view(), name="api-tuning-jobs"),
    path(
        "api/v1/tuning-jobs/<str:name>/",
        api.TuningJobDetailView.as_view(),
        name="api-tuning-jobs-detail",
    ),
    path(
        "api/v1/tuning-jobs/<str:name>/stop/",
        api.TuningJobStopView.as_view(),
        name="api-tuning-jobs-stop",
    ),
    path(
        "api/v1/tuning-jobs/<str:name>/trials/",
        api.TuningJobTrialsView.as_view(),
        name="api-tuning-jobs-trials",
    ),
    path(
        "api/v1/tuning-jobs/<str:name>/surrogate/",
        api.TuningJobSurrogateView.as_view(),
        name="api-tuning-jobs-surrogate",
    ),
]
