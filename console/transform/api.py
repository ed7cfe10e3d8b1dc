"""REST adapter for batch transform jobs: `/api/v1/transform-jobs/`."""

from rest_framework import serializers

from console.core.api_views import JOB_FIELDS, ResourceDetailView, ResourceListView
from console.transform.models import TransformJob
from console.transform.selectors import transform_job_list


class TransformJobSerializer(serializers.ModelSerializer):
    class Meta:
        model = TransformJob
        fields = [*JOB_FIELDS, "model_name", "progress"]


class TransformJobListView(ResourceListView):
    serializer_class = TransformJobSerializer
    selector = transform_job_list


class TransformJobDetailView(ResourceDetailView):
    serializer_class = TransformJobSerializer
    selector = transform_job_list
