"""REST adapter for batch transform jobs: `/api/v1/transform-jobs/`.

``POST`` takes CreateTransformJob's request with snake_case names; a job reads as its
DescribeTransformJob response, snake_cased, plus ``progress``: records and bytes done in total
and per object, and the Dask dashboard while it runs.
"""

from rest_framework import serializers

from console.core.api_views import (
    JOB_FIELDS,
    ResourceDetailView,
    ResourceListView,
    ResourceStopView,
)
from console.transform.models import TransformJob
from console.transform.selectors import (
    transform_job_describe,
    transform_job_list,
    transform_job_progress,
)
from console.transform.services import transform_job_create, transform_job_stop


class TransformJobSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()

    class Meta:
        model = TransformJob
        fields = [*JOB_FIELDS, "model_name", "progress"]

    def get_progress(self, job: TransformJob) -> dict:
        return transform_job_progress(job)


class _WithProgress:
    described_extra = {
        "progress": {
            "type": "object",
            "description": "Records and bytes done, in total and per input object.",
        }
    }

    def described(self, row: TransformJob) -> dict:
        return {**super().described(row), "progress": transform_job_progress(row)}


class TransformJobListView(_WithProgress, ResourceListView):
    serializer_class = TransformJobSerializer
    selector = transform_job_list
    create_service = transform_job_create
    create_operation = "CreateTransformJob"
    describe = transform_job_describe
    describe_operation = "DescribeTransformJob"


class TransformJobDetailView(_WithProgress, ResourceDetailView):
    serializer_class = TransformJobSerializer
    selector = transform_job_list
    describe = transform_job_describe
    describe_operation = "DescribeTransformJob"


class TransformJobStopView(ResourceStopView):
    stop_service = transform_job_stop
