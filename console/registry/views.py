"""Console pages for models."""

from console.core.views import ResourceListPage
from console.registry.selectors import model_list

models = ResourceListPage.as_view(
    title="Models",
    selector=model_list,
    columns=[("Name", "name"), ("Training job", "training_job_name"), ("Created", "created_at")],
    sagemaker_operation="CreateModel",
)
