"""Reads of pipelines and their executions."""

from django.db.models import QuerySet

from console.core.selectors import get_visible, visible_to
from console.pipelines.models import Pipeline, PipelineExecution


def pipeline_list(*, user) -> QuerySet[Pipeline]:
    return visible_to(Pipeline.objects.all(), user)


def pipeline_get(*, user, name: str) -> Pipeline | None:
    return get_visible(Pipeline.objects.all(), user=user, name=name)


def pipeline_execution_list(*, user, pipeline: Pipeline) -> QuerySet[PipelineExecution]:
    return visible_to(PipelineExecution.objects.filter(pipeline=pipeline), user)
