"""Routes of the training pages that are not one job's: compare, and the create form's
hyperparameter fields (included at the site root, before ``training-jobs/<name>/``)."""

from django.urls import path

from console.training import views

urlpatterns = [
    path("training-jobs/compare", views.training_job_compare, name="training-compare"),
    path(
        "training-jobs/new/hyperparameters",
        views.training_job_hyperparameters,
        name="training-job-hyperparameters",
    ),
]
