"""Pipeline responses fit botocore's output shapes, as boto3 and the SDK read them."""

from __future__ import annotations

import json

import pytest

from console.core.shapes import response_violations
from console.pipelines.selectors import (
    pipeline_describe,
    pipeline_execution_describe,
    pipeline_execution_steps,
    pipeline_execution_summary,
    pipeline_step_describe,
    pipeline_summary,
)
from console.pipelines.services import pipeline_create, pipeline_execution_start
from flows.pipelines import run_pipeline_execution
from flows.training import run_training_job
from tests.console.pipelines.definitions import ROLE, chain, text

pytestmark = pytest.mark.django_db


def as_sent(response: dict) -> dict:
    return json.loads(json.dumps(response, default=lambda value: value.timestamp()))


def test_describe_and_list_responses_fit_the_shapes(user, data_bucket):
    pipeline = pipeline_create(
        user=user,
        spec={
            "PipelineName": "chain",
            "PipelineDefinition": text(chain(data_bucket, threshold=0.0)),
            "ClientRequestToken": "c" * 32,
            "RoleArn": ROLE,
            "ParallelismConfiguration": {"MaxParallelExecutionSteps": 3},
        },
    )
    execution = pipeline_execution_start(
        user=user, spec={"PipelineName": "chain", "ClientRequestToken": "r" * 32}
    )
    run_pipeline_execution(
        execution.pk, poll_seconds=0.01, run_child={"Training": run_training_job}
    )
    execution.refresh_from_db()
    pipeline.refresh_from_db()

    assert response_violations("DescribePipeline", as_sent(pipeline_describe(pipeline))) == []
    described = pipeline_execution_describe(execution)
    assert response_violations("DescribePipelineExecution", as_sent(described)) == []
    steps = [pipeline_step_describe(step) for step in pipeline_execution_steps(execution)]
    assert {s["StepName"] for s in steps} == {"Train", "Check", "TooWeak"}
    listed = {"PipelineExecutionSteps": steps}
    assert response_violations("ListPipelineExecutionSteps", as_sent(listed)) == []
    summaries = {"PipelineSummaries": [pipeline_summary(pipeline)]}
    assert response_violations("ListPipelines", as_sent(summaries)) == []
    executions = {"PipelineExecutionSummaries": [pipeline_execution_summary(execution)]}
    assert response_violations("ListPipelineExecutions", as_sent(executions)) == []
