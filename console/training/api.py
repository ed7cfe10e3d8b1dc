"""REST adapter for training jobs: `/api/v1/training-jobs/`."""

from rest_framework import serializers

from console.core.api_views import JOB_FIELDS, ResourceDetailView, ResourceListView
from console.training.models import TrainingJob
from console.training.selectors import training_job_list


class TrainingJobSerializer(serializers.ModelSerializer):
    class Meta:
        model = TrainingJob
        fields = [*JOB_FIELDS, "secondary_status", "model_artifacts", "final_metrics"]


class TrainingJobListView(ResourceListView):
    serializer_class = TrainingJobSerializer
    selector = training_job_list


class TrainingJobDetailView(ResourceDetailView):
    serializer_class = TrainingJobSerializer
    selector = training_job_list
