"""Routes of endpoints: console pages and the REST API (included at the site root)."""

from django.urls import path

from console.endpoints import api, views

urlpatterns = [
    path("endpoints/", views.endpoints, name="endpoints"),
    path("endpoints/<str:name>/", views.endpoint_detail, name="endpoint"),
    path("endpoints/<str:name>/delete", views.endpoint_delete_view, name="endpoint-delete"),
    path(
        "endpoints/<str:name>/autoscaling", views.endpoint_autoscaling, name="endpoint-autoscaling"
    ),
    path(
        "api/v1/endpoint-configs/",
        api.EndpointConfigListView.as_view(),
        name="api-endpoint-configs",
    ),
    path(
        "api/v1/endpoint-configs/<str:name>/",
        api.EndpointConfigDetailView.as_view(),
        name="api-endpoint-configs-detail",
    ),
    path("api/v1/endpoints/", api.EndpointListView.as_view(), name="api-endpoints"),
    path(
        "api/v1/endpoints/<str:name>/",
        api.EndpointDetailView.as_view(),
        name="api-endpoints-detail",
    ),
    path(
        "api/v1/endpoints/<str:name>/update/",
        api.EndpointUpdateView.as_view(),
        name="api-endpoints-update",
    ),
    path(
        "api/v1/endpoints/<str:name>/weights-and-capacities/",
        api.EndpointWeightsAndCapacitiesView.as_view(),
        name="api-endpoints-weights-and-capacities",
    ),
    path(
        "api/v1/endpoints/<str:name>/variants/<str:variant>/autoscaling/",
        api.EndpointAutoscalingView.as_view(),
        name="api-endpoints-autoscaling",
    ),
    path(
        "api/v1/endpoints/<str:name>/invocations/",
        api.EndpointInvocationsView.as_view(),
        name="api-endpoints-invocations",
    ),
]
