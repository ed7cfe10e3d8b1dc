"""REST adapter for access keys: `/api/v1/access-keys/`. The secret appears once, at creation."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from console.accounts.models import AccessKey
from console.accounts.selectors import access_key_list
from console.accounts.services import access_key_create, access_key_revoke
from console.core.api import StrictJSONParser
from console.core.api_schema import responses


class AccessKeySerializer(serializers.ModelSerializer):
    class Meta:
        model = AccessKey
        fields = ["access_key_id", "description", "created_at", "last_used_at", "revoked_at"]


class TextField(serializers.CharField):
    """A string as sent: a number or a boolean is refused, not turned into text."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class AccessKeyCreateSerializer(serializers.Serializer):
    description = TextField(max_length=200, required=False, default="")


class NewAccessKeySerializer(AccessKeySerializer):
    secret_access_key = serializers.CharField()

    class Meta(AccessKeySerializer.Meta):
        fields = [*AccessKeySerializer.Meta.fields, "secret_access_key"]


@extend_schema_view(
    get=extend_schema(responses=responses({200: AccessKeySerializer(many=True)}, 400))
)
class AccessKeyListView(generics.ListAPIView):
    serializer_class = AccessKeySerializer
    parser_classes = [StrictJSONParser]

    def get_queryset(self):
        return access_key_list(user=self.request.user)

    @extend_schema(
        request=AccessKeyCreateSerializer,
        responses=responses({201: NewAccessKeySerializer}, 400, 415),
    )
    def post(self, request):
        data = AccessKeyCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        new = access_key_create(user=request.user, **data.validated_data)
        body = {
            **AccessKeySerializer(new.access_key).data,
            "secret_access_key": new.secret_access_key,
        }
        return Response(body, status=status.HTTP_201_CREATED)


class AccessKeyRevokeView(APIView):
    @extend_schema(request=None, responses=responses({200: AccessKeySerializer}, 404))
    def delete(self, request, access_key_id: str):
        key = access_key_revoke(user=request.user, access_key_id=access_key_id)
        return Response(AccessKeySerializer(key).data)
