"""Routes of labeling: the console pages and the REST API (included at the site root)."""

from django.urls import path

from console.labeling import api, views

JOB = "api/v1/labeling-jobs/<str:name>"

urlpatterns = [
    path("labeling-jobs/", views.labeling_jobs, name="labeling-jobs"),
    path("labeling-jobs/new/", views.labeling_job_new, name="labeling-job-new"),
    path("labeling-jobs/<str:name>/", views.labeling_job_detail, name="labeling-job"),
    path("labeling-jobs/<str:name>/stop/", views.labeling_job_stop_view, name="labeling-job-stop"),
    path("workteams/", views.workteams, name="workteams"),
    path("workteams/new/", views.workteam_new, name="workteam-new"),
    path("workteams/<str:name>/", views.workteam_detail, name="workteam"),
    path("labeling-queue/", views.labeling_queue, name="labeling-queue"),
    path("labeling-queue/<str:name>/", views.labeling_task, name="labeling-task"),
    path(
        "labeling-queue/<str:name>/<int:item>/answer/",
        views.labeling_task_answer_view,
        name="labeling-task-answer",
    ),
    path(
        "labeling-queue/<str:name>/<int:item>/skip/",
        views.labeling_task_skip_view,
        name="labeling-task-skip",
    ),
    path(
        "labeling-queue/<str:name>/undo/",
        views.labeling_task_undo_view,
        name="labeling-task-undo",
    ),
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
