"""Routes of endpoints: console pages and the REST API (included at the site root)."""

from django.urls import path

from console.endpoints import api, config_views, deploy_views, views

urlpatterns = [
    path("endpoint-configs/", config_views.endpoint_configs, name="endpoint-configs"),
    path("endpoint-configs/new", config_views.endpoint_config_new, name="endpoint-config-new"),
    path("endpoint-configs/<str:name>/", config_views.endpoint_config, name="endpoint-config"),
    path(
        "endpoint-configs/<str:name>/delete",
        config_views.endpoint_config_delete_view,
        name="endpoint-config-delete",
    ),
    path("endpoints/", views.endpoints, name="endpoints"),
    # Linked from training and tuning jobs' pages with ?training_job= or ?tuning_job=.
    path("endpoints/new", deploy_views.endpoint_new, name="endpoint-new"),
    path("endpoints/<str:name>/", views.endpoint_detail, name="endpoint"),
    path("endpoints/<str:name>/update", views.endpoint_update_view, name="endpoint-update"),
    path("endpoints/<str:name>/weights", views.endpoint_weights_view, name="endpoint-weights"),
    path("endpoints/<str:name>/delete", views.endpoint_delete_view, name="endpoint-delete"),
    path(
        "endpoints/<str:name>/autoscaling", views.endpoint_autoscaling, name="endpoint-autoscaling"
    ),
    path(
        "endpoints/<str:name>/variants/<str:variant>/step-scaling",
        views.endpoint_step_scaling_view,
        name="endpoint-step-scaling",
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
