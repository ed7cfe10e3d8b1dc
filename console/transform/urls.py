"""Routes of batch transform: console pages and the REST API (included at the site root)."""

from django.urls import path

from console.transform import api, views

urlpatterns = [
    path("transform-jobs/", views.transform_jobs, name="transform-jobs"),
    path("transform-jobs/new", views.transform_job_new, name="transform-job-new"),
    path("transform-jobs/<str:name>/", views.transform_job_detail, name="transform-job"),
    path(
        "transform-jobs/<str:name>/stop",
        views.transform_job_stop_view,
        name="transform-job-stop",
    ),
    path(
        "api/v1/transform-jobs/",
        api.TransformJobListView.as_view(),
        name="api-transform-jobs",
    ),
    path(
        "api/v1/transform-jobs/<str:name>/",
        api.TransformJobDetailView.as_view(),
        name="api-transform-jobs-detail",
    ),
    path(
        "api/v1/transform-jobs/<str:name>/stop/",
        api.TransformJobStopView.as_view(),
        name="api-transform-jobs-stop",
    ),
]
