"""REST adapter for endpoint configs and endpoints: `/api/v1/endpoint-configs/`, `/endpoints/`.

Create bodies are the SageMaker requests with snake_case names; a resource reads as its Describe
response, snake_cased. An endpoint's detail adds each variant's instances (their health) and its
autoscaling policy. ``POST .../invocations/`` invokes it with the raw body, as the runtime does,
and answers each invoke outcome with its own status: 424 when the model fails, 504 when it does
not answer in time, 409 when the endpoint is not in service, 400 for bad input.
"""

from __future__ import annotations

from asgiref.sync import async_to_sync
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import BaseParser
from rest_framework.response import Response
from rest_framework.views import APIView

from console.core.api import StrictJSONParser, error_body
from console.core.api_schema import ErrorSerializer, request_schema, responses
from console.core.api_views import ResourceDetailView, ResourceListView, request_object
from console.core.casing import from_snake
from console.core.errors import ValidationError
from console.endpoints.invoke import (
    Invoked,
    ModelFailed,
    NotInService,
    Outcome,
    TimedOut,
    UnknownVariant,
    endpoint_invoke,
)
from console.endpoints.models import Endpoint, EndpointConfig
from console.endpoints.selectors import (
    endpoint_config_describe,
    endpoint_config_list,
    endpoint_describe,
    endpoint_get,
    endpoint_list,
    endpoint_variant_views,
)
from console.endpoints.services.capacity import (
    endpoint_autoscaling_clear,
    endpoint_autoscaling_set,
    endpoint_update_weights_and_capacities,
)
from console.endpoints.services.configs import endpoint_config_create, endpoint_config_delete
from console.endpoints.services.endpoints import endpoint_create, endpoint_delete, endpoint_update


class EndpointConfigSerializer(serializers.ModelSerializer):
    class Meta:
        model = EndpointConfig
        fields = ["name", "arn", "spec", "created_at", "updated_at"]


class EndpointSerializer(serializers.ModelSerializer):
    endpoint_config_name = serializers.CharField(source="config_name", read_only=True)

    class Meta:
        model = Endpoint
        fields = [
            "name",
            "arn",
            "status",
            "failure_reason",
            "endpoint_config_name",
            "flow_run_id",
            "created_at",
            "updated_at",
        ]


class EndpointConfigListView(ResourceListView):
    serializer_class = EndpointConfigSerializer
    selector = endpoint_config_list
    create_service = endpoint_config_create
    create_operation = "CreateEndpointConfig"
    describe = endpoint_config_describe
    describe_operation = "DescribeEndpointConfig"


class EndpointConfigDetailView(ResourceDetailView):
    serializer_class = EndpointConfigSerializer
    selector = endpoint_config_list
    describe = endpoint_config_describe
    describe_operation = "DescribeEndpointConfig"
    delete_service = endpoint_config_delete


def _variants(endpoint: Endpoint) -> list[dict]:
    return [
        {
            "variant_name": view.variant.name,
            "state": view.variant.state,
            "deployment_id": view.variant.deployment_id,
            "model_name": view.variant.model_name,
            "current_weight": view.variant.current_weight,
            "desired_weight": view.variant.desired_weight,
            "desired_instance_count": view.desired_instances,
            "autoscaling": view.variant.autoscaling,
            "queued_requests": view.backlog,
            "instances": [
                {
                    "name": health.name,
                    "state": health.state,
                    "host": health.host,
                    "pid": health.pid,
                    "served": health.served,
                    "failed": health.failed,
                    "error": health.error,
                }
                for health in view.instances
            ],
        }
        for view in endpoint_variant_views(endpoint)
    ]


VARIANTS_SCHEMA = {
    "type": "array",
    "description": "Each variant's serving state, weights, autoscaling and instances.",
    "items": {"type": "object"},
}


class _WithVariants:
    described_extra = {"variants": VARIANTS_SCHEMA}

    def described(self, row: Endpoint) -> dict:
        return {**super().described(row), "variants": _variants(row)}


class EndpointListView(_WithVariants, ResourceListView):
    serializer_class = EndpointSerializer
    selector = endpoint_list
    create_service = endpoint_create
    create_operation = "CreateEndpoint"
    describe = endpoint_describe
    describe_operation = "DescribeEndpoint"


class EndpointDetailView(_WithVariants, ResourceDetailView):
    serializer_class = EndpointSerializer
    selector = endpoint_list
    describe = endpoint_describe
    describe_operation = "DescribeEndpoint"
    delete_service = endpoint_delete


class EndpointUpdateView(APIView):
    """``POST /api/v1/endpoints/<name>/update/`` with UpdateEndpoint's other members."""

    parser_classes = [StrictJSONParser]

    @extend_schema(
        request=request_schema("UpdateEndpoint", leave_out=("endpoint_name",)),
        responses=responses({202: None}, 400, 404, 409, 415),
    )
    def post(self, request, name: str):
        spec = from_snake("UpdateEndpoint", {**request_object(request), "endpoint_name": name})
        endpoint_update(user=request.user, spec=spec)
        return Response(status=status.HTTP_202_ACCEPTED)


class EndpointWeightsAndCapacitiesView(APIView):
    """``POST /api/v1/endpoints/<name>/weights-and-capacities/`` with
    ``desired_weights_and_capacities``, as UpdateEndpointWeightsAndCapacities."""

    parser_classes = [StrictJSONParser]

    @extend_schema(
        request=request_schema("UpdateEndpointWeightsAndCapacities", leave_out=("endpoint_name",)),
        responses=responses({202: None}, 400, 404, 409, 415),
    )
    def post(self, request, name: str):
        spec = from_snake(
            "UpdateEndpointWeightsAndCapacities",
            {**request_object(request), "endpoint_name": name},
        )
        endpoint_update_weights_and_capacities(user=request.user, spec=spec)
        return Response(status=status.HTTP_202_ACCEPTED)


class AutoscalingSerializer(serializers.Serializer):
    min_instances = serializers.IntegerField()
    max_instances = serializers.IntegerField()
    target_invocations_per_instance = serializers.FloatField()


class AutoscalingPolicySerializer(serializers.Serializer):
    variant_name = serializers.CharField()
    autoscaling = serializers.DictField(allow_null=True)


class EndpointAutoscalingView(APIView):
    """``PUT``/``DELETE /api/v1/endpoints/<name>/variants/<variant>/autoscaling/``: the
    variant's target-tracking policy (invocations per instance per minute, within bounds)."""

    parser_classes = [StrictJSONParser]

    @extend_schema(
        request=AutoscalingSerializer,
        responses=responses({200: AutoscalingPolicySerializer}, 400, 404, 409, 415),
    )
    def put(self, request, name: str, variant: str):
        body = AutoscalingSerializer(data=request.data)
        if not body.is_valid():
            field, rules = next(iter(body.errors.items()))
            raise ValidationError(field, str(rules[0]))
        row = endpoint_autoscaling_set(
            user=request.user, name=name, variant_name=variant, **body.validated_data
        )
        return Response({"variant_name": row.name, "autoscaling": row.autoscaling})

    @extend_schema(responses=responses({204: None}, 404, 409))
    def delete(self, request, name: str, variant: str):
        endpoint_autoscaling_clear(user=request.user, name=name, variant_name=variant)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RawBodyParser(BaseParser):
    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read()


class ModelFailureSerializer(ErrorSerializer):
    variant_name = serializers.CharField()
    original_status_code = serializers.IntegerField(required=False)


class EndpointInvocationsView(APIView):
    """``POST /api/v1/endpoints/<name>/invocations/``: the raw body goes to the model; the
    answer comes back as is, with ``X-Invoked-Production-Variant``. ``X-Target-Variant`` names
    the variant to answer, as the runtime's ``X-Amzn-SageMaker-Target-Variant``."""

    parser_classes = [RawBodyParser]

    def perform_content_negotiation(self, request, force=False):
        # Accept is the model's to honour (it picks the answer's format), not a reason for DRF
        # to refuse the request: this view's own errors are JSON whatever it asks for.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        request=OpenApiTypes.BINARY,
        responses={
            **responses({200: OpenApiTypes.BINARY}, 400, 404, 409),
            424: OpenApiResponse(ModelFailureSerializer, description="The model failed."),
            504: OpenApiResponse(ModelFailureSerializer, description="The model timed out."),
        },
    )
    def post(self, request, name: str):
        endpoint_get(user=request.user, name=name)  # 404 when unknown
        outcome = async_to_sync(endpoint_invoke)(
            user=request.user,
            endpoint_name=name,
            body=request.data if isinstance(request.data, bytes) else b"",
            content_type=request.content_type or "text/csv",
            accept=request.headers.get("Accept", ""),
            target_variant=request.headers.get("X-Target-Variant") or None,
        )
        return _invocation_response(outcome)


def _invocation_response(outcome: Outcome) -> HttpResponse | Response:
    """An invoke outcome as the REST API answers it."""
    match outcome:
        case Invoked():
            response = HttpResponse(outcome.body, content_type=outcome.content_type)
            response["X-Invoked-Production-Variant"] = outcome.variant_name
            return response
        case UnknownVariant():
            raise ValidationError(
                "X-Target-Variant",
                f"Must name a variant serving endpoint {outcome.endpoint_name} "
                f"({', '.join(outcome.variant_names)})",
                value=outcome.target,
            )
        case NotInService():
            return Response(error_body(outcome.reason), status=status.HTTP_409_CONFLICT)
        case ModelFailed():
            detail = (
                f"The model of variant {outcome.variant_name} failed the request "
                f"({outcome.status}): {outcome.message}"
            )
            body = {
                **error_body(detail),
                "variant_name": outcome.variant_name,
                "original_status_code": outcome.status,
            }
            return Response(body, status=status.HTTP_424_FAILED_DEPENDENCY)
        case TimedOut():
            detail = f"The model of variant {outcome.variant_name} did not answer in time: "
            body = {**error_body(detail + outcome.message), "variant_name": outcome.variant_name}
            return Response(body, status=status.HTTP_504_GATEWAY_TIMEOUT)
    raise TypeError(f"not an invoke outcome: {outcome!r}")
