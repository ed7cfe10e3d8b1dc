"""Console pages for pipelines."""

from console.core.views import ResourceListPage
from console.pipelines.selectors import pipeline_list

pipelines = ResourceListPage.as_view(
    title="Pipelines",
    selector=pipeline_list,
    columns=[("Name", "name"), ("Status", "status"), ("Created", "created_at")],
    statuses=["Active", "Deleting"],
    sagemaker_operation="CreatePipeline",
)
