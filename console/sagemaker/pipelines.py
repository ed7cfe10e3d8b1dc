"""SageMaker operations on pipelines and pipeline executions."""

import json

from console.core.errors import AlreadyExists
from console.core.shapes import ShapeError, Violation
from console.pipelines.selectors import (
    pipeline_describe,
    pipeline_execution_describe,
    pipeline_execution_get,
    pipeline_execution_list,
    pipeline_execution_parameters,
    pipeline_execution_steps,
    pipeline_execution_summary,
    pipeline_get,
    pipeline_list,
    pipeline_step_describe,
    pipeline_summary,
)
from console.pipelines.services import (
    pipeline_create,
    pipeline_delete,
    pipeline_execution_start,
    pipeline_execution_stop,
    pipeline_update,
)
from console.sagemaker.errors import validation
from console.sagemaker.listing import decode_token, encode_token, list_page, page_response
from console.sagemaker.operations import operation


def _with_creation_filters(params: dict) -> dict:
    """Pipeline lists say CreatedAfter/CreatedBefore where other lists say CreationTime*."""
    renamed = {"CreatedAfter": "CreationTimeAfter", "CreatedBefore": "CreationTimeBefore"}
    return {renamed.get(key, key): value for key, value in params.items()}


@operation("CreatePipeline")
def create_pipeline(*, user, params: dict) -> dict:
    try:
        pipeline = pipeline_create(user=user, spec=params)
    except AlreadyExists as exc:  # SageMaker answers a taken name so; the SDK's upsert reads it
        raise validation(exc.message) from None
    return {"PipelineArn": pipeline.arn}


@operation("UpdatePipeline")
def update_pipeline(*, user, params: dict) -> dict:
    pipeline = pipeline_update(user=user, spec=params)
    return {"PipelineArn": pipeline.arn, "PipelineVersionId": pipeline.version}


@operation("DescribePipeline")
def describe_pipeline(*, user, params: dict) -> dict:
    return pipeline_describe(pipeline_get(user=user, name=params["PipelineName"]))


@operation("DeletePipeline")
def delete_pipeline(*, user, params: dict) -> dict:
    return {"PipelineArn": pipeline_delete(user=user, name=params["PipelineName"])}


@operation("ListPipelines")
def list_pipelines(*, user, params: dict) -> dict:
    pipelines = pipeline_list(user=user)
    if prefix := params.get("PipelineNamePrefix"):
        pipelines = pipelines.filter(name__startswith=prefix)
    items, token = list_page(
        pipelines,
        _with_creation_filters(params),
        summary=pipeline_summary,
        sort_fields={"Name": "name", "CreationTime": "created_at"},
        status_field=None,
    )
    return page_response("PipelineSummaries", items, token)


@operation("StartPipelineExecution")
def start_pipeline_execution(*, user, params: dict) -> dict:
    return {"PipelineExecutionArn": pipeline_execution_start(user=user, spec=params).arn}


@operation("StopPipelineExecution")
def stop_pipeline_execution(*, user, params: dict) -> dict:
    execution = pipeline_execution_stop(user=user, execution_arn=params["PipelineExecutionArn"])
    return {"PipelineExecutionArn": execution.arn}


@operation("DescribePipelineExecution")
def describe_pipeline_execution(*, user, params: dict) -> dict:
    execution = pipeline_execution_get(user=user, execution_arn=params["PipelineExecutionArn"])
    return pipeline_execution_describe(execution)


@operation("DescribePipelineDefinitionForExecution")
def describe_pipeline_definition_for_execution(*, user, params: dict) -> dict:
    execution = pipeline_execution_get(user=user, execution_arn=params["PipelineExecutionArn"])
    return {
        "PipelineDefinition": json.dumps(execution.definition),
        "CreationTime": execution.created_at,
    }


@operation("ListPipelineExecutions")
def list_pipeline_executions(*, user, params: dict) -> dict:
    pipeline = pipeline_get(user=user, name=params["PipelineName"])
    items, token = list_page(
        pipeline_execution_list(user=user, pipeline=pipeline),
        _with_creation_filters(params),
        summary=pipeline_execution_summary,
        sort_fields={"CreationTime": "created_at", "PipelineExecutionArn": "arn"},
        status_field=None,
    )
    return page_response("PipelineExecutionSummaries", items, token)


@operation("ListPipelineExecutionSteps")
def list_pipeline_execution_steps(*, user, params: dict) -> dict:
    """Steps newest first, as SageMaker lists them (SortOrder Ascending: oldest first).

    botocore leaves PipelineExecutionArn optional here; SageMaker needs it all the same."""
    if params.get("PipelineExecutionArn") is None:
        raise ShapeError([Violation("PipelineExecutionArn", None, "Member must not be null")])
    execution = pipeline_execution_get(user=user, execution_arn=params["PipelineExecutionArn"])
    steps = pipeline_execution_steps(execution)
    ascending = params.get("SortOrder", "Descending") == "Ascending"
    steps = steps.order_by(*(("started_at", "pk") if ascending else ("-started_at", "-pk")))
    offset = decode_token(params.get("NextToken"))
    limit = params.get("MaxResults", 50)
    rows = list(steps[offset : offset + limit + 1])
    token = encode_token(offset + limit) if len(rows) > limit else None
    items = [pipeline_step_describe(step) for step in rows[:limit]]
    return page_response("PipelineExecutionSteps", items, token)


@operation("ListPipelineParametersForExecution")
def list_pipeline_parameters_for_execution(*, user, params: dict) -> dict:
    execution = pipeline_execution_get(user=user, execution_arn=params["PipelineExecutionArn"])
    return {"PipelineParameters": pipeline_execution_parameters(execution)}
