"""SageMaker operations on models."""

from console.registry.selectors import model_list
from console.sagemaker.listing import list_page, page_response
from console.sagemaker.operations import operation


@operation("ListModels")
def list_models(*, user, params: dict) -> dict:
    items, token = list_page(
        model_list(user=user),
        params,
        summary=lambda model: {
            "ModelName": model.name,
            "ModelArn": model.arn,
            "CreationTime": model.created_at,
        },
        sort_fields={"Name": "name", "CreationTime": "created_at"},
        status_field=None,
    )
    return page_response("Models", items, token)
