"""REST adapter for endpoint configs and endpoints."""

from rest_framework import serializers

from console.core.api_views import ResourceDetailView, ResourceListView
from console.endpoints.models import Endpoint, EndpointConfig
from console.endpoints.selectors import endpoint_config_list, endpoint_list


class EndpointConfigSerializer(serializers.ModelSerializer):
    class Meta:
        model = EndpointConfig
        fields = ["name", "arn", "spec", "created_at", "updated_at"]


class EndpointSerializer(serializers.ModelSerializer):
    endpoint_config_name = serializers.CharField(source="config.name", read_only=True)

    class Meta:
        model = Endpoint
        fields = [
            "name",
            "arn",
            "status",
            "failure_reason",
            "endpoint_config_name",
            "created_at",
            "updated_at",
        ]


class EndpointConfigListView(ResourceListView):
    serializer_class = EndpointConfigSerializer
    selector = endpoint_config_list


class EndpointConfigDetailView(ResourceDetailView):
    serializer_class = EndpointConfigSerializer
    selector = endpoint_config_list


class EndpointListView(ResourceListView):
    serializer_class = EndpointSerializer
    selector = endpoint_list


class EndpointDetailView(ResourceDetailView):
    serializer_class = EndpointSerializer
    selector = endpoint_list
