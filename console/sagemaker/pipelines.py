"""SageMaker operations on pipelines and pipeline executions."""

from console.core.errors import NotFound
from console.pipelines.selectors import pipeline_execution_list, pipeline_get, pipeline_list
from console.sagemaker.listing import list_page, page_response
from console.sagemaker.operations import operation


def _with_creation_filters(params: dict) -> dict:
    """Pipeline lists say CreatedAfter/CreatedBefore where other lists say CreationTime*."""
    renamed = {"CreatedAfter": "CreationTimeAfter", "CreatedBefore": "CreationTimeBefore"}
    return {renamed.get(key, key): value for key, value in params.items()}


@operation("ListPipelines")
def list_pipelines(*, user, params: dict) -> dict:
    pipelines = pipeline_list(user=user)
    if prefix := params.get("PipelineNamePrefix"):
        pipelines = pipelines.filter(name__startswith=prefix)
    items, token = list_page(
        pipelines,
        _with_creation_filters(params),
        summary=lambda pipeline: {
            "PipelineArn": pipeline.arn,
            "PipelineName": pipeline.name,
            "CreationTime": pipeline.created_at,
            "LastModifiedTime": pipeline.updated_at,
        },
        sort_fields={"Name": "name", "CreationTime": "created_at"},
        status_field=None,
    )
    return page_response("PipelineSummaries", items, token)


@operation("ListPipelineExecutions")
def list_pipeline_executions(*, user, params: dict) -> dict:
    name = params["PipelineName"]
    pipeline = pipeline_get(user=user, name=name)
    if pipeline is None:
        raise NotFound("Pipeline", name)
    items, token = list_page(
        pipeline_execution_list(user=user, pipeline=pipeline),
        _with_creation_filters(params),
        summary=lambda execution: {
            "PipelineExecutionArn": execution.arn,
            "StartTime": execution.created_at,
            "PipelineExecutionStatus": execution.status,
        },
        sort_fields={"CreationTime": "created_at", "PipelineExecutionArn": "arn"},
        status_field=None,
    )
    return page_response("PipelineExecutionSummaries", items, token)
