"""REST adapter for pipelines: `/api/v1/pipelines/`."""

from rest_framework import serializers

from console.core.api_views import ResourceDetailView, ResourceListView
from console.pipelines.models import Pipeline
from console.pipelines.selectors import pipeline_list


class PipelineSerializer(serializers.ModelSerializer):
    class Meta:
        model = Pipeline
        fields = ["name", "arn", "status", "definition", "created_at", "updated_at"]


class PipelineListView(ResourceListView):
    serializer_class = PipelineSerializer
    selector = pipeline_list


class PipelineDetailView(ResourceDetailView):
    serializer_class = PipelineSerializer
    selector = pipeline_list
