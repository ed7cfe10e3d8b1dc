"""Console pages for endpoints."""

from console.core.views import ResourceListPage
from console.endpoints.selectors import endpoint_list

endpoints = ResourceListPage.as_view(
    title="Endpoints",
    selector=endpoint_list,
    columns=[
        ("Name", "name"),
        ("Status", "status"),
        ("Config", "config"),
        ("Created", "created_at"),
    ],
    statuses=["Creating", "InService", "Updating", "Deleting", "Failed", "OutOfService"],
    sagemaker_operation="CreateEndpoint",
)
