"""Routes of the training pages beside the list and the job's page: compare, the create form's
hyperparameter fields and a job's log download (included at the site root, before
``training-jobs/<name>/``)."""

from django.urls import path

from console.training import views

urlpatterns = [
    path("training-jobs/compare", views.training_job_compare, name="training-compare"),
    path(
        "training-jobs/new/hyperparameters",
        views.training_job_hyperparameters,
        name="training-job-hyperparameters",
    ),
    path("training-jobs/<str:name>/log", views.training_job_log_download, name="training-job-log"),
]
