"""REST adapter for labeling jobs: `/api/v1/labeling-jobs/`."""

from rest_framework import serializers

from console.core.api_views import JOB_FIELDS, ResourceDetailView, ResourceListView
from console.labeling.models import LabelingJob
from console.labeling.selectors import labeling_job_list


class LabelingJobSerializer(serializers.ModelSerializer):
    class Meta:
        model = LabelingJob
        fields = [*JOB_FIELDS, "label_counters"]


class LabelingJobListView(ResourceListView):
    serializer_class = LabelingJobSerializer
    selector = labeling_job_list


class LabelingJobDetailView(ResourceDetailView):
    serializer_class = LabelingJobSerializer
    selector = labeling_job_list
