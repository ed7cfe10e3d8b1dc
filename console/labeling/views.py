"""Console pages for labeling jobs."""

from console.core.views import ResourceListPage
from console.labeling.selectors import labeling_job_list

labeling_jobs = ResourceListPage.as_view(
    title="Labeling jobs",
    selector=labeling_job_list,
    columns=[("Name", "name"), ("Status", "status"), ("Created", "created_at")],
    statuses=["Initializing", "InProgress", "Completed", "Failed", "Stopping", "Stopped"],
    sagemaker_operation="CreateLabelingJob",
)
