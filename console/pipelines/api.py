"""REST adapter for pipelines: `/api/v1/pipelines/` and their executions.

``POST /api/v1/pipelines/`` takes CreatePipeline's request, snake_cased (``pipeline_definition``
may be the JSON object itself, and ``client_request_token`` may be left out); a pipeline reads as
its DescribePipeline response. ``POST …/<name>/update/`` takes UpdatePipeline's other members.
Executions: ``GET``/``POST …/<name>/executions/`` (list, StartPipelineExecution),
``…/executions/<id>/`` (DescribePipelineExecution plus ``parameters``), ``…/<id>/steps/``
(ListPipelineExecutionSteps' items) and ``POST …/<id>/stop/``.
"""

from __future__ import annotations

import json
import uuid

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from console.core.api import StrictJSONParser
from console.core.api_schema import describe_schema, request_schema, responses
from console.core.api_views import ResourceDetailView, ResourceListView, request_object
from console.core.casing import from_snake, to_snake
from console.core.errors import ValidationError
from console.pipelines.models import Pipeline
from console.pipelines.schedules import (
    pipeline_schedule_create,
    pipeline_schedule_delete,
    pipeline_schedule_update,
)
from console.pipelines.selectors import (
    pipeline_describe,
    pipeline_execution_by_name,
    pipeline_execution_describe,
    pipeline_execution_list,
    pipeline_execution_parameters,
    pipeline_execution_steps,
    pipeline_get,
    pipeline_list,
    pipeline_schedule_describe,
    pipeline_schedule_get,
    pipeline_schedule_list,
    pipeline_step_describe,
)
from console.pipelines.services import (
    pipeline_create,
    pipeline_delete,
    pipeline_execution_start,
    pipeline_execution_stop,
    pipeline_update,
)


def _with_defaults(spec: dict, *, token: bool = True) -> dict:
    """REST bodies may give the definition as an object and leave the token to the server."""
    spec = dict(spec)
    if isinstance(spec.get("PipelineDefinition"), dict):
        spec["PipelineDefinition"] = json.dumps(spec["PipelineDefinition"])
    if token:
        spec.setdefault("ClientRequestToken", str(uuid.uuid4()))
    return spec


def rest_pipeline_create(*, user, spec: dict) -> Pipeline:
    return pipeline_create(user=user, spec=_with_defaults(spec))


class PipelineSerializer(serializers.ModelSerializer):
    class Meta:
        model = Pipeline
        fields = ["name", "arn", "status", "display_name", "created_at", "updated_at"]


class PipelineListView(ResourceListView):
    serializer_class = PipelineSerializer
    selector = pipeline_list
    create_service = rest_pipeline_create
    create_operation = "CreatePipeline"
    describe = pipeline_describe
    describe_operation = "DescribePipeline"


class PipelineDetailView(ResourceDetailView):
    serializer_class = PipelineSerializer
    selector = pipeline_list
    describe = pipeline_describe
    describe_operation = "DescribePipeline"
    delete_service = pipeline_delete


class PipelineUpdateView(APIView):
    parser_classes = [StrictJSONParser]

    @extend_schema(
        request=request_schema("UpdatePipeline", leave_out=("pipeline_name",)),
        responses=responses({200: describe_schema("DescribePipeline")}, 400, 404, 415),
        description="UpdatePipeline: what is given replaces what was.",
    )
    def post(self, request, name: str):
        body = {**request_object(request), "pipeline_name": name}
        spec = _with_defaults(from_snake("UpdatePipeline", body), token=False)
        pipeline = pipeline_update(user=request.user, spec=spec)
        return Response(to_snake("DescribePipeline", pipeline_describe(pipeline)))


def _execution_body(execution) -> dict:
    body = to_snake("DescribePipelineExecution", pipeline_execution_describe(execution))
    body["execution_id"] = execution.name
    body["parameters"] = execution.parameters
    body["started_at"] = execution.started_at
    body["ended_at"] = execution.ended_at
    return body


EXECUTION_SCHEMA = describe_schema(
    "DescribePipelineExecution",
    execution_id={"type": "string"},
    parameters={"type": "object", "description": "Every parameter's value."},
    started_at={"type": "string", "format": "date-time", "nullable": True},
    ended_at={"type": "string", "format": "date-time", "nullable": True},
)


class PipelineExecutionListView(APIView):
    parser_classes = [StrictJSONParser]

    @extend_schema(
        operation_id="v1_pipelines_executions_list",
        responses=responses({200: {"type": "array", "items": EXECUTION_SCHEMA}}, 404),
        description="The pipeline's executions, newest first.",
    )
    def get(self, request, name: str):
        pipeline = pipeline_get(user=request.user, name=name)
        executions = pipeline_execution_list(user=request.user, pipeline=pipeline)
        return Response([_execution_body(e) for e in executions.order_by("-created_at", "-pk")])

    @extend_schema(
        request=request_schema("StartPipelineExecution", leave_out=("pipeline_name",)),
        responses=responses({201: EXECUTION_SCHEMA}, 400, 404, 415),
        description="StartPipelineExecution.",
    )
    def post(self, request, name: str):
        body = {**request_object(request), "pipeline_name": name}
        spec = _with_defaults(from_snake("StartPipelineExecution", body))
        execution = pipeline_execution_start(user=request.user, spec=spec)
        return Response(_execution_body(execution), status=status.HTTP_201_CREATED)


class PipelineExecutionDetailView(APIView):
    @extend_schema(responses=responses({200: EXECUTION_SCHEMA}, 404))
    def get(self, request, name: str, execution_id: str):
        execution = pipeline_execution_by_name(user=request.user, pipeline=name, name=execution_id)
        body = _execution_body(execution)
        body["pipeline_parameters"] = [
            {"name": item["Name"], "value": item["Value"]}
            for item in pipeline_execution_parameters(execution)
        ]
        return Response(body)


class PipelineExecutionStepsView(APIView):
    @extend_schema(
        responses=responses(
            {200: {"type": "array", "items": {"type": "object"}}},
            404,
        ),
        description="ListPipelineExecutionSteps' items, snake_cased, in the order they started.",
    )
    def get(self, request, name: str, execution_id: str):
        execution = pipeline_execution_by_name(user=request.user, pipeline=name, name=execution_id)
        steps = [
            to_snake("ListPipelineExecutionSteps", {"PipelineExecutionSteps": [step]})[
                "pipeline_execution_steps"
            ][0]
            for step in map(pipeline_step_describe, pipeline_execution_steps(execution))
        ]
        return Response(steps)


class PipelineExecutionStopView(APIView):
    @extend_schema(
        request=None,
        responses=responses({202: None}, 404, 409),
        description="StopPipelineExecution: its running jobs are stopped.",
    )
    def post(self, request, name: str, execution_id: str):
        execution = pipeline_execution_by_name(user=request.user, pipeline=name, name=execution_id)
        pipeline_execution_stop(user=request.user, execution_arn=execution.arn)
        return Response(status=status.HTTP_202_ACCEPTED)


# -- schedules ---------------------------------------------------------------------------------

SCHEDULE_FIELDS = {
    "schedule_name": "ScheduleName",
    "cron": "Cron",
    "interval_seconds": "IntervalSeconds",
    "timezone": "Timezone",
    "start_time": "StartTime",
    "end_time": "EndTime",
    "enabled": "Enabled",
}
SCHEDULE_REQUEST = {
    "application/json": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "schedule_name": {"type": "string", "maxLength": 63},
            "cron": {
                "type": "string",
                "description": "Five fields: minute hour day month weekday.",
            },
            "interval_seconds": {"type": "integer", "minimum": 60},
            "timezone": {"type": "string", "description": "An IANA time zone; UTC by default."},
            "start_time": {"type": "string", "format": "date-time"},
            "end_time": {"type": "string", "format": "date-time"},
            "enabled": {"type": "boolean"},
            "pipeline_parameters": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "value": {"type": "string"}},
                },
            },
        },
    }
}
SCHEDULE_SCHEMA = {"type": "object", "description": "A schedule, its last run and missed runs."}


def _schedule_spec(body: dict) -> dict:
    spec = {SCHEDULE_FIELDS.get(key, key): value for key, value in body.items()}
    if "pipeline_parameters" in spec:
        given = spec.pop("pipeline_parameters")
        if not isinstance(given, list) or not all(isinstance(item, dict) for item in given):
            raise ValidationError("PipelineParameters", "Member must be a list of name and value")
        spec["PipelineParameters"] = [
            {"Name": item.get("name"), "Value": item.get("value")} for item in given
        ]
    return spec


class PipelineScheduleListView(APIView):
    parser_classes = [StrictJSONParser]

    @extend_schema(
        operation_id="v1_pipelines_schedules_list",
        responses=responses({200: {"type": "array", "items": SCHEDULE_SCHEMA}}, 404),
    )
    def get(self, request, name: str):
        schedules = pipeline_schedule_list(user=request.user, pipeline=name)
        return Response([pipeline_schedule_describe(s) for s in schedules])

    @extend_schema(
        request=SCHEDULE_REQUEST,
        responses=responses({201: SCHEDULE_SCHEMA}, 400, 404, 409, 415),
        description="A schedule (cron or interval) that starts executions with its parameters.",
    )
    def post(self, request, name: str):
        spec = _schedule_spec(request_object(request))
        schedule = pipeline_schedule_create(user=request.user, pipeline_name=name, spec=spec)
        return Response(pipeline_schedule_describe(schedule), status=status.HTTP_201_CREATED)


class PipelineScheduleDetailView(APIView):
    parser_classes = [StrictJSONParser]

    @extend_schema(responses=responses({200: SCHEDULE_SCHEMA}, 404))
    def get(self, request, name: str, schedule: str):
        row = pipeline_schedule_get(user=request.user, pipeline=name, name=schedule)
        return Response(pipeline_schedule_describe(row))

    @extend_schema(
        request=SCHEDULE_REQUEST,
        responses=responses({200: SCHEDULE_SCHEMA}, 400, 404, 415),
        description="Change what is given; the rest stays.",
    )
    def patch(self, request, name: str, schedule: str):
        spec = _schedule_spec(request_object(request))
        row = pipeline_schedule_update(
            user=request.user, pipeline_name=name, schedule_name=schedule, spec=spec
        )
        return Response(pipeline_schedule_describe(row))

    @extend_schema(responses=responses({204: None}, 404))
    def delete(self, request, name: str, schedule: str):
        pipeline_schedule_delete(user=request.user, pipeline_name=name, schedule_name=schedule)
        return Response(status=status.HTTP_204_NO_CONTENT)
