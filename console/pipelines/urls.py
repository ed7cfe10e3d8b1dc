"""Routes of pipelines: console pages and the REST API (included at the site root)."""

from django.urls import path

from console.pipelines import api, views

EXECUTION = "api/v1/pipelines/<str:name>/executions/<str:execution_id>/"

urlpatterns = [
    path("pipelines/", views.pipelines, name="pipelines"),
    path("pipelines/new", views.pipeline_new, name="pipeline-new"),
    path("pipelines/<str:name>/", views.pipeline, name="pipeline"),
    path(
        "pipelines/<str:name>/executions/<str:execution_id>/",
        views.pipeline_execution,
        name="pipeline-execution",
    ),
    path(
        "pipelines/<str:name>/executions/<str:execution_id>/stop",
        views.pipeline_execution_stop_view,
        name="pipeline-execution-stop",
    ),
    path("api/v1/pipelines/", api.PipelineListView.as_view(), name="api-pipelines"),
    path(
        "api/v1/pipelines/<str:name>/",
        api.PipelineDetailView.as_view(),
        name="api-pipelines-detail",
    ),
    path(
        "api/v1/pipelines/<str:name>/update/",
        api.PipelineUpdateView.as_view(),
        name="api-pipelines-update",
    ),
    path(
        "api/v1/pipelines/<str:name>/executions/",
        api.PipelineExecutionListView.as_view(),
        name="api-pipeline-executions",
    ),
    path(EXECUTION, api.PipelineExecutionDetailView.as_view(), name="api-pipeline-execution"),
    path(
        f"{EXECUTION}steps/",
        api.PipelineExecutionStepsView.as_view(),
        name="api-pipeline-execution-steps",
    ),
    path(
        f"{EXECUTION}stop/",
        api.PipelineExecutionStopView.as_view(),
        name="api-pipeline-execution-stop",
    ),
    path(
        "api/v1/pipelines/<str:name>/schedules/",
        api.PipelineScheduleListView.as_view(),
        name="api-pipeline-schedules",
    ),
    path(
        "api/v1/pipelines/<str:name>/schedules/<str:schedule>/",
        api.PipelineScheduleDetailView.as_view(),
        name="api-pipeline-schedule",
    ),
]
