"""REST adapter for tuning jobs: `/api/v1/tuning-jobs/`."""

from rest_framework import serializers

from console.core.api_views import JOB_FIELDS, ResourceDetailView, ResourceListView
from console.tuning.models import HyperParameterTuningJob
from console.tuning.selectors import tuning_job_list


class TuningJobSerializer(serializers.ModelSerializer):
    class Meta:
        model = HyperParameterTuningJob
        fields = [*JOB_FIELDS, "best_training_job_name"]


class TuningJobListView(ResourceListView):
    serializer_class = TuningJobSerializer
    selector = tuning_job_list


class TuningJobDetailView(ResourceDetailView):
    serializer_class = TuningJobSerializer
    selector = tuning_job_list
