"""Routes of the model registry: console pages and the REST API (included at the site root)."""

from django.urls import path

from console.registry import api, views

urlpatterns = [
    path("model-package-groups/", views.model_package_groups, name="model-package-groups"),
    path(
        "model-package-groups/<str:name>/",
        views.model_package_group,
        name="model-package-group",
    ),
    path(
        "model-package-groups/<str:name>/delete",
        views.model_package_group_delete_view,
        name="model-package-group-delete",
    ),
    path(
        "model-package-groups/<str:name>/<int:version>/",
        views.model_package,
        name="model-package",
    ),
    path(
        "model-package-groups/<str:name>/<int:version>/approval",
        views.model_package_approval,
        name="model-package-approval",
    ),
    path(
        "model-package-groups/<str:name>/<int:version>/delete",
        views.model_package_delete_view,
        name="model-package-delete",
    ),
    path(
        "api/v1/model-package-groups/",
        api.ModelPackageGroupListView.as_view(),
        name="api-model-package-groups",
    ),
    path(
        "api/v1/model-package-groups/<str:name>/",
        api.ModelPackageGroupDetailView.as_view(),
        name="api-model-package-groups-detail",
    ),
    path(
        "api/v1/model-packages/",
        api.ModelPackageListView.as_view(),
        name="api-model-packages",
    ),
    path(
        "api/v1/model-packages/<str:group>/<int:version>/",
        api.ModelPackageVersionView.as_view(),
        name="api-model-packages-detail",
    ),
    path(
        "api/v1/model-packages/<str:group>/<int:version>/update/",
        api.ModelPackageVersionUpdateView.as_view(),
        name="api-model-packages-update",
    ),
    path(
        "api/v1/model-packages/<str:name>/",
        api.UnversionedModelPackageView.as_view(),
        name="api-model-packages-unversioned",
    ),
    path(
        "api/v1/model-packages/<str:name>/update/",
        api.UnversionedModelPackageUpdateView.as_view(),
        name="api-model-packages-unversioned-update",
    ),
]
