"""Routes of processing jobs: console pages and the REST API (included at the site root)."""

from django.urls import path

from console.processing import api, views

urlpatterns = [
    path("processing-jobs/", views.processing_jobs, name="processing-jobs"),
    path("processing-jobs/new", views.processing_job_new, name="processing-job-new"),
    path("processing-jobs/<str:name>/", views.processing_job_detail, name="processing-job"),
    path(
        "processing-jobs/<str:name>/log",
        views.processing_job_log_download,
        name="processing-job-log",
    ),
    path(
        "processing-jobs/<str:name>/stop",
        views.processing_job_stop_view,
        name="processing-job-stop",
    ),
    path(
        "api/v1/processing-jobs/",
        api.ProcessingJobListView.as_view(),
        name="api-processing-jobs",
    ),
    path(
        "api/v1/processing-jobs/<str:name>/",
        api.ProcessingJobDetailView.as_view(),
        name="api-processing-jobs-detail",
    ),
    path(
        "api/v1/processing-jobs/<str:name>/stop/",
        api.ProcessingJobStopView.as_view(),
        name="api-processing-jobs-stop",
    ),
]
