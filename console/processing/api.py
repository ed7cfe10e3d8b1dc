"""REST adapter for processing jobs: `/api/v1/processing-jobs/`.

``POST`` takes CreateProcessingJob's request with snake_case names; a job reads as its
DescribeProcessingJob response, snake_cased, plus ``uploaded``: what was uploaded of each output.
"""

from rest_framework import serializers

from console.core.api_views import (
    JOB_FIELDS,
    ResourceDetailView,
    ResourceListView,
    ResourceStopView,
)
from console.processing.models import ProcessingJob
from console.processing.selectors import processing_job_describe, processing_job_list
from console.processing.services import processing_job_create, processing_job_stop


class ProcessingJobSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProcessingJob
        fields = [*JOB_FIELDS, "exit_message", "uploaded"]


class _WithUploads:
    described_extra = {
        "uploaded": {
            "type": "array",
            "description": "Per output: its name, S3 URI and how many files were uploaded.",
        }
    }

    def described(self, row: ProcessingJob) -> dict:
        return {**super().described(row), "uploaded": row.uploaded}


class ProcessingJobListView(_WithUploads, ResourceListView):
    serializer_class = ProcessingJobSerializer
    selector = processing_job_list
    create_service = processing_job_create
    create_operation = "CreateProcessingJob"
    describe = processing_job_describe
    describe_operation = "DescribeProcessingJob"


class ProcessingJobDetailView(_WithUploads, ResourceDetailView):
    serializer_class = ProcessingJobSerializer
    selector = processing_job_list
    describe = processing_job_describe
    describe_operation = "DescribeProcessingJob"


class ProcessingJobStopView(ResourceStopView):
    stop_service = processing_job_stop
