"""SageMaker operations on endpoint configs and endpoints."""

from console.endpoints.selectors import endpoint_config_list, endpoint_list
from console.sagemaker.listing import list_page, page_response
from console.sagemaker.operations import operation


@operation("ListEndpointConfigs")
def list_endpoint_configs(*, user, params: dict) -> dict:
    items, token = list_page(
        endpoint_config_list(user=user),
        params,
        summary=lambda config: {
            "EndpointConfigName": config.name,
            "EndpointConfigArn": config.arn,
            "CreationTime": config.created_at,
        },
        sort_fields={"Name": "name", "CreationTime": "created_at"},
        status_field=None,
    )
    return page_response("EndpointConfigs", items, token)


@operation("ListEndpoints")
def list_endpoints(*, user, params: dict) -> dict:
    items, token = list_page(
        endpoint_list(user=user),
        params,
        summary=lambda endpoint: {
            "EndpointName": endpoint.name,
            "EndpointArn": endpoint.arn,
            "CreationTime": endpoint.created_at,
            "LastModifiedTime": endpoint.updated_at,
            "EndpointStatus": endpoint.status,
        },
        sort_fields={"Name": "name", "CreationTime": "created_at", "Status": "status"},
    )
    return page_response("Endpoints", items, token)
