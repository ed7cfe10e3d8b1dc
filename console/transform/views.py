"""Console pages for batch transform jobs."""

from console.core.views import ResourceListPage
from console.transform.selectors import transform_job_list

transform_jobs = ResourceListPage.as_view(
    title="Batch transform jobs",
    selector=transform_job_list,
    columns=[
        ("Name", "name"),
        ("Status", "status"),
        ("Model", "model_name"),
        ("Created", "created_at"),
    ],
    statuses=["InProgress", "Completed", "Failed", "Stopping", "Stopped"],
    sagemaker_operation="CreateTransformJob",
)
