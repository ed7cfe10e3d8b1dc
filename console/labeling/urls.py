"""Routes of labeling: the console list page and the REST API (included at the site root)."""

from django.urls import path

from console.labeling import api, views

JOB = "api/v1/labeling-jobs/<str:name>"

urlpatterns = [
    path("labeling-jobs/", views.labeling_jobs, name="labeling-jobs"),
    path("api/v1/labeling-jobs/", api.LabelingJobListView.as_view(), name="api-labeling-jobs"),
    path(f"{JOB}/", api.LabelingJobDetailView.as_view(), name="api-labeling-jobs-detail"),
    path(f"{JOB}/stop/", api.LabelingJobStopView.as_view(), name="api-labeling-jobs-stop"),
    path(f"{JOB}/tasks/next/", api.TaskNextView.as_view(), name="api-labeling-tasks-next"),
    path(f"{JOB}/tasks/undo/", api.TaskUndoView.as_view(), name="api-labeling-tasks-undo"),
    path(
        f"{JOB}/tasks/<int:item>/answer/",
        api.TaskAnswerView.as_view(),
        name="api-labeling-tasks-answer",
    ),
    path(
        f"{JOB}/tasks/<int:item>/skip/", api.TaskSkipView.as_view(), name="api-labeling-tasks-skip"
    ),
    path("api/v1/workteams/", api.WorkteamListView.as_view(), name="api-workteams"),
    path(
        "api/v1/workteams/<str:name>/",
        api.WorkteamDetailView.as_view(),
        name="api-workteams-detail",
    ),
]
