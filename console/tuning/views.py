"""Console pages for hyperparameter tuning jobs."""

from console.core.views import ResourceListPage
from console.tuning.selectors import tuning_job_list

tuning_jobs = ResourceListPage.as_view(
    title="Hyperparameter tuning jobs",
    selector=tuning_job_list,
    columns=[
        ("Name", "name"),
        ("Status", "status"),
        ("Best training job", "best_training_job_name"),
        ("Created", "created_at"),
    ],
    statuses=["InProgress", "Completed", "Failed", "Stopping", "Stopped"],
    sagemaker_operation="CreateHyperParameterTuningJob",
)
