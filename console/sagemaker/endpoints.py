"""SageMaker operations on endpoint configs and endpoints."""

from console.endpoints.selectors import (
    endpoint_config_describe,
    endpoint_config_get,
    endpoint_config_list,
    endpoint_describe,
    endpoint_get,
    endpoint_list,
)
from console.endpoints.services.capacity import endpoint_update_weights_and_capacities
from console.endpoints.services.configs import endpoint_config_create, endpoint_config_delete
from console.endpoints.services.endpoints import endpoint_create, endpoint_delete, endpoint_update
from console.sagemaker.listing import list_page, page_response
from console.sagemaker.operations import operation


@operation("CreateEndpointConfig")
def create_endpoint_config(*, user, params: dict) -> dict:
    return {"EndpointConfigArn": endpoint_config_create(user=user, spec=params).arn}


@operation("DescribeEndpointConfig")
def describe_endpoint_config(*, user, params: dict) -> dict:
    return endpoint_config_describe(
        endpoint_config_get(user=user, name=params["EndpointConfigName"])
    )


@operation("DeleteEndpointConfig")
def delete_endpoint_config(*, user, params: dict) -> dict:
    endpoint_config_delete(user=user, name=params["EndpointConfigName"])
    return {}


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


@operation("CreateEndpoint")
def create_endpoint(*, user, params: dict) -> dict:
    return {"EndpointArn": endpoint_create(user=user, spec=params).arn}


@operation("DescribeEndpoint")
def describe_endpoint(*, user, params: dict) -> dict:
    return endpoint_describe(endpoint_get(user=user, name=params["EndpointName"]))


@operation("UpdateEndpoint")
def update_endpoint(*, user, params: dict) -> dict:
    return {"EndpointArn": endpoint_update(user=user, spec=params).arn}


@operation("UpdateEndpointWeightsAndCapacities")
def update_endpoint_weights_and_capacities(*, user, params: dict) -> dict:
    return {"EndpointArn": endpoint_update_weights_and_capacities(user=user, spec=params).arn}


@operation("DeleteEndpoint")
def delete_endpoint(*, user, params: dict) -> dict:
    endpoint_delete(user=user, name=params["EndpointName"])
    return {}


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
