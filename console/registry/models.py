"""Registered models: containers (image + artifact) that endpoints and transform jobs run."""

from django.db import models

from console.core.models import OwnedResource


class Model(OwnedResource):
    spec = models.JSONField(
        default=dict
    )  # PrimaryContainer / Containers / ... as CreateModel takes
    training_job_name = models.CharField(max_length=63, blank=True, default="")

    class Meta(OwnedResource.Meta):
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="model_name_per_owner")
        ]


class ModelPackageGroup(OwnedResource):
    """A named collection of model package versions: ``model-package-group/<name>``."""

    description = models.CharField(max_length=1024, blank=True, default="")
    # The last version number handed out: versions are never reused, even after a delete.
    latest_version = models.PositiveIntegerField(default=0)

    class Meta(OwnedResource.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "name"], name="model_package_group_name_per_owner"
            )
        ]


class ModelPackage(OwnedResource):
    """One model package: version N of a group (``model-package/<group>/<N>``, its ``name`` the
    group's), or an unversioned package of its own name (``model-package/<name>``)."""

    APPROVAL_STATUSES = ("PendingManualApproval", "Approved", "Rejected")

    group = models.ForeignKey(
        ModelPackageGroup,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="packages",
    )
    version = models.PositiveIntegerField(null=True, blank=True)
    description = models.CharField(max_length=1024, blank=True, default="")
    approval_status = models.CharField(max_length=32, blank=True, default="", db_index=True)
    approval_description = models.CharField(max_length=1024, blank=True, default="")
    spec = models.JSONField(default=dict)  # the CreateModelPackage request
    customer_metadata = models.JSONField(default=dict)  # CustomerMetadataProperties, as updated
    # What produced the package, when known: a pipeline execution's, training or tuning job's ARN.
    source = models.CharField(max_length=2048, blank=True, default="")
    training_job_name = models.CharField(max_length=63, blank=True, default="")
    last_modified_by = models.CharField(max_length=150, blank=True, default="")

    class Meta(OwnedResource.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["group", "version"],
                condition=models.Q(group__isnull=False),
                name="model_package_version_per_group",
            ),
            models.UniqueConstraint(
                fields=["owner", "name"],
                condition=models.Q(group__isnull=True),
                name="unversioned_model_package_name_per_owner",
            ),
        ]

    @property
    def versioned(self) -> bool:
        return self.group_id is not None
