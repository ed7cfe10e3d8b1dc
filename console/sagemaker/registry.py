"""SageMaker operations on models."""

from console.registry.selectors import model_describe, model_get, model_list
from console.registry.services import model_create, model_delete
from console.sagemaker.listing import list_page, page_response
from console.sagemaker.operations import operation


@operation("CreateModel")
def create_model(*, user, params: dict) -> dict:
    return {"ModelArn": model_create(user=user, spec=params).arn}


@operation("DescribeModel")
def describe_model(*, user, params: dict) -> dict:
    return model_describe(model_get(user=user, name=params["ModelName"]))


@operation("DeleteModel")
def delete_model(*, user, params: dict) -> dict:
    model_delete(user=user, name=params["ModelName"])
    return {}


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
