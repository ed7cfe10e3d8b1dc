"""REST adapter for training jobs: `/api/v1/training-jobs/`."""

from rest_framework import serializers

from console.core.api_views import (
    JOB_FIELDS,
    ResourceDetailView,
    ResourceListView,
    ResourceStopView,
)
from console.training.models import TrainingJob
from console.training.selectors import training_job_describe, training_job_list
from console.training.services import training_job_create, training_job_stop


class TrainingJobSerializer(serializers.ModelSerializer):
    class Meta:
        model = TrainingJob
        fields = [*JOB_FIELDS, "secondary_status", "model_artifacts", "final_metrics"]


class TrainingJobListView(ResourceListView):
    serializer_class = TrainingJobSerializer
    selector = training_job_list
    create_service = training_job_create
    create_operation = "CreateTrainingJob"
    describe = training_job_describe
    describe_operation = "DescribeTrainingJob"


class TrainingJobDetailView(ResourceDetailView):
    serializer_class = TrainingJobSerializer
    selector = training_job_list
    describe = training_job_describe
    describe_operation = "DescribeTrainingJob"


class TrainingJobStopView(ResourceStopView):
    stop_service = training_job_stop
