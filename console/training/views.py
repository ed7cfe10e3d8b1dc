"""Console pages for training jobs."""

from console.core.views import ResourceListPage
from console.training.selectors import training_job_list

training_jobs = ResourceListPage.as_view(
    title="Training jobs",
    selector=training_job_list,
    columns=[
        ("Name", "name"),
        ("Status", "status"),
        ("Secondary status", "secondary_status"),
        ("Created", "created_at"),
    ],
    statuses=["InProgress", "Completed", "Failed", "Stopping", "Stopped"],
    sagemaker_operation="CreateTrainingJob",
)
