"""REST adapter for models: `/api/v1/models/`."""

from rest_framework import serializers

from console.core.api_views import ResourceDetailView, ResourceListView
from console.registry.models import Model
from console.registry.selectors import model_describe, model_list
from console.registry.services import model_create, model_delete


class ModelSerializer(serializers.ModelSerializer):
    class Meta:
        model = Model
        fields = ["name", "arn", "spec", "training_job_name", "created_at", "updated_at"]


class ModelListView(ResourceListView):
    serializer_class = ModelSerializer
    selector = model_list
    create_service = model_create
    create_operation = "CreateModel"
    describe = model_describe
    describe_operation = "DescribeModel"


class ModelDetailView(ResourceDetailView):
    serializer_class = ModelSerializer
    selector = model_list
    describe = model_describe
    describe_operation = "DescribeModel"
    delete_service = model_delete
