"""REST adapter for labeling: `/api/v1/labeling-jobs/` (create, list, detail, stop), the work
queue under `/api/v1/labeling-jobs/{name}/tasks/`, and `/api/v1/workteams/`.

``POST`` takes the SageMaker request (CreateLabelingJob, CreateWorkteam) with snake_case names;
a job reads as its DescribeLabelingJob response, snake_cased, plus its rounds of active learning.
A task is one item: ``{"item": <manifest line index>, "source"|"source_ref", "labels": [...]}``.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from console.core.api import StrictJSONParser
from console.core.api_schema import describe_schema, request_schema, responses
from console.core.api_views import (
    JOB_FIELDS,
    ResourceDetailView,
    ResourceListView,
    ResourceStopView,
    request_object,
)
from console.core.casing import from_snake, to_snake
from console.core.errors import NotFound, ValidationError
from console.labeling.models import LabelingItem, LabelingJob, Workteam
from console.labeling.selectors import (
    labeling_job_describe,
    labeling_job_for_worker,
    labeling_job_list,
    labeling_job_rounds,
    labeling_worker_progress,
    workteam_describe,
    workteam_get,
    workteam_list,
)
from console.labeling.services import (
    labeling_job_create,
    labeling_job_stop,
    labeling_task_answer,
    labeling_task_next,
    labeling_task_skip,
    labeling_task_undo,
    workteam_create,
    workteam_delete,
    workteam_update,
)


class LabelingJobSerializer(serializers.ModelSerializer):
    class Meta:
        model = LabelingJob
        fields = [*JOB_FIELDS, "label_counters"]


class _WithRounds:
    described_extra = {
        "rounds": {"type": "array", "description": "Rounds of active learning, in order."}
    }

    def described(self, row: LabelingJob) -> dict:
        return {**super().described(row), "rounds": labeling_job_rounds(row)}


class LabelingJobListView(_WithRounds, ResourceListView):
    serializer_class = LabelingJobSerializer
    selector = labeling_job_list
    create_service = labeling_job_create
    create_operation = "CreateLabelingJob"
    describe = labeling_job_describe
    describe_operation = "DescribeLabelingJob"


class LabelingJobDetailView(_WithRounds, ResourceDetailView):
    serializer_class = LabelingJobSerializer
    selector = labeling_job_list
    describe = labeling_job_describe
    describe_operation = "DescribeLabelingJob"


class LabelingJobStopView(ResourceStopView):
    stop_service = labeling_job_stop


# The work queue


class TaskSerializer(serializers.Serializer):
    item = serializers.IntegerField(help_text="The item's line in the input manifest, from 0.")
    source = serializers.CharField(required=False)
    source_ref = serializers.CharField(required=False)
    labels = serializers.ListField(child=serializers.CharField())
    progress = serializers.DictField(child=serializers.IntegerField())


class AnswerSerializer(serializers.Serializer):
    label = serializers.JSONField(help_text="A label of the job: its name or its index.")


def task_body(job: LabelingJob, item: LabelingItem, user) -> dict:
    body = {"item": item.index, "labels": job.categories}
    if item.source_ref:
        body["source_ref"] = item.source_ref
    else:
        body["source"] = item.source
    body["progress"] = labeling_worker_progress(user=user, job=job)
    return body


def _item(job: LabelingJob, index: int) -> LabelingItem:
    item = job.items.filter(index=index).first()
    if item is None:
        raise NotFound("LabelingItem", f"{job.name}/{index}")
    return item


class TaskNextView(APIView):
    """``POST .../tasks/next/``: the next item for me, held for me (204 when none waits)."""

    @extend_schema(
        request=None,
        responses=responses(
            {200: TaskSerializer, 204: OpenApiResponse(description="Nothing waits.")}, 404, 409
        ),
    )
    def post(self, request, name: str):
        job = labeling_job_for_worker(user=request.user, name=name)
        item = labeling_task_next(user=request.user, job=job)
        if item is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(task_body(job, item, request.user))


class TaskAnswerView(APIView):
    """``POST .../tasks/{item}/answer/`` with ``{"label": ...}``."""

    parser_classes = [StrictJSONParser]

    @extend_schema(
        request=AnswerSerializer, responses=responses({200: TaskSerializer}, 400, 404, 409, 415)
    )
    def post(self, request, name: str, item: int):
        body = request_object(request)
        if "label" not in body:
            raise ValidationError("label", "Member must not be null")
        job = labeling_job_for_worker(user=request.user, name=name)
        answered = labeling_task_answer(
            user=request.user, item=_item(job, item), label=body["label"]
        )
        return Response(task_body(job, answered, request.user))


class TaskSkipView(APIView):
    """``POST .../tasks/{item}/skip/``: not offered to me again."""

    @extend_schema(request=None, responses=responses({204: None}, 404, 409))
    def post(self, request, name: str, item: int):
        job = labeling_job_for_worker(user=request.user, name=name)
        labeling_task_skip(user=request.user, item=_item(job, item))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TaskUndoView(APIView):
    """``POST .../tasks/undo/``: take back my last answer; the item is my next task again."""

    @extend_schema(
        request=None,
        responses=responses(
            {200: TaskSerializer, 204: OpenApiResponse(description="No answer to undo.")},
            404,
            409,
        ),
    )
    def post(self, request, name: str):
        job = labeling_job_for_worker(user=request.user, name=name)
        item = labeling_task_undo(user=request.user, job=job)
        if item is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(task_body(job, item, request.user))


# Work teams


class WorkteamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Workteam
        fields = ["name", "arn", "description", "member_definitions", "created_at", "updated_at"]


def _workteam_described(team: Workteam) -> dict:
    return to_snake("DescribeWorkteam", {"Workteam": workteam_describe(team)})["workteam"]


class _ReadsAsWorkteam:
    @classmethod
    def detail_schema(cls):
        """A team reads as DescribeWorkteam's ``workteam``."""
        return describe_schema("DescribeWorkteam")["properties"]["workteam"]


class WorkteamListView(_ReadsAsWorkteam, ResourceListView):
    serializer_class = WorkteamSerializer
    selector = workteam_list
    create_service = workteam_create
    create_operation = "CreateWorkteam"

    def described(self, row: Workteam) -> dict:
        return _workteam_described(row)


class WorkteamDetailView(_ReadsAsWorkteam, ResourceDetailView):
    """``GET``, ``PATCH`` (UpdateWorkteam's members, snake_cased) and ``DELETE``."""

    serializer_class = WorkteamSerializer
    selector = workteam_list
    delete_service = workteam_delete

    def retrieve(self, request, *args, **kwargs):
        return Response(_workteam_described(workteam_get(user=request.user, name=kwargs["name"])))

    parser_classes = [StrictJSONParser]

    @extend_schema(
        request=request_schema("UpdateWorkteam", leave_out=("workteam_name",)),
        responses=responses({200: _ReadsAsWorkteam.detail_schema()}, 400, 404, 409, 415),
    )
    def patch(self, request, name: str):
        spec = {**from_snake("UpdateWorkteam", request_object(request)), "WorkteamName": name}
        return Response(_workteam_described(workteam_update(user=request.user, spec=spec)))
