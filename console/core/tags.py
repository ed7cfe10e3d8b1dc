"""Tags of every SageMaker resource, in one store keyed by the resource's ARN.

Every ``Create*`` service keeps the request's ``Tags`` through ``resource_tags_set`` (in the
transaction that writes the row), and AddTags/ListTags/DeleteTags reach any resource by its ARN
through ``resource_by_arn``, which answers only the caller's own resources (staff: everyone's).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.apps import apps
from django.db import transaction
from django.db.models import QuerySet

from console.core.errors import NotFound, ValidationError
from console.core.models import OwnedResource, ResourceTag
from console.core.names import account_id_for
from console.core.selectors import visible_to

MAX_TAGS = 50  # per resource, as SageMaker allows
MAX_KEY_LENGTH = 128
MAX_VALUE_LENGTH = 256
RESERVED_PREFIX = "aws:"


def _resource_models() -> list[type[OwnedResource]]:
    return [m for m in apps.get_models() if issubclass(m, OwnedResource)]


def _account_of(resource_arn: str) -> str:
    parts = resource_arn.split(":", 5)
    return parts[4] if len(parts) == 6 else ""


def resource_by_arn(*, user, resource_arn: str) -> OwnedResource:
    """The caller's resource (of any kind) whose ARN this is; another user's is not found."""
    candidates = {resource_arn, resource_arn.lower()}
    if user.is_staff or _account_of(resource_arn) == account_id_for(user.pk):
        for model in _resource_models():
            row = visible_to(model.objects.all(), user).filter(arn__in=candidates).first()
            if row is not None:
                return row
    raise NotFound("Resource", resource_arn, arn=resource_arn)


def tags_validate(tags: object, *, field: str = "Tags") -> list[dict[str, str]]:
    """``tags`` as ``[{"Key", "Value"}]`` if they follow SageMaker's rules, else the
    ValidationError naming the tag at fault: a key of 1 to 128 characters not starting with
    ``aws:``, a value of at most 256, each key once, at most 50."""
    if tags is None:
        return []
    if not isinstance(tags, list):
        raise ValidationError(field, "Member must be a list of {Key, Value}", value=tags)
    if len(tags) > MAX_TAGS:
        raise ValidationError(field, f"Member must have length less than or equal to {MAX_TAGS}")
    seen: set[str] = set()
    clean = []
    for number, tag in enumerate(tags, start=1):
        where = f"{field}.{number}"
        if not isinstance(tag, dict):
            raise ValidationError(where, "Member must be an object with Key and Value", value=tag)
        key, value = tag.get("Key"), tag.get("Value", "")
        if not isinstance(key, str) or not 1 <= len(key) <= MAX_KEY_LENGTH:
            rule = f"Member must have length between 1 and {MAX_KEY_LENGTH}"
            raise ValidationError(f"{where}.Key", rule, value=key)
        if not isinstance(value, str) or len(value) > MAX_VALUE_LENGTH:
            rule = f"Member must have length less than or equal to {MAX_VALUE_LENGTH}"
            raise ValidationError(f"{where}.Value", rule, value=value)
        if key.lower().startswith(RESERVED_PREFIX):
            rule = f"Tag keys starting with '{RESERVED_PREFIX}' are reserved for system use"
            raise ValidationError(f"{where}.Key", rule, value=key)
        if key in seen:
            raise ValidationError(f"{where}.Key", "Member must be unique among the tags", value=key)
        seen.add(key)
        clean.append({"Key": key, "Value": value})
    return clean


def resource_tags(resource_arn: str) -> QuerySet[ResourceTag]:
    """The tags of the resource with this ARN, oldest first."""
    return ResourceTag.objects.filter(resource_arn=resource_arn).order_by("pk")


def resource_tags_shape(resource_arn: str) -> list[dict[str, str]]:
    """The resource's tags as the API returns them: ``[{"Key", "Value"}]``."""
    return [
        {"Key": key, "Value": value}
        for key, value in resource_tags(resource_arn).values_list("key", "value")
    ]


def resource_tags_set(*, resource_arn: str, tags: list[dict[str, str]]) -> None:
    """Give a resource being created exactly ``tags`` (validated by ``tags_validate``): a tag
    left by an earlier resource of the same ARN (deleted, then created again) goes."""
    with transaction.atomic():
        ResourceTag.objects.filter(resource_arn=resource_arn).delete()
        ResourceTag.objects.bulk_create(
            ResourceTag(resource_arn=resource_arn, key=t["Key"], value=t["Value"]) for t in tags
        )


def resource_tags_add(*, user, resource_arn: str, tags: object) -> list[dict[str, str]]:
    """AddTags: add or overwrite ``tags`` on the caller's resource; at most 50 in all."""
    resource = resource_by_arn(user=user, resource_arn=resource_arn)
    clean = tags_validate(tags)
    with transaction.atomic():
        existing = set(
            resource_tags(resource.arn).select_for_update().values_list("key", flat=True)
        )
        total = len(existing | {t["Key"] for t in clean})
        if total > MAX_TAGS:
            raise ValidationError(
                "Tags",
                f"A resource has at most {MAX_TAGS} tags: {resource.arn} would have {total}",
            )
        for tag in clean:
            ResourceTag.objects.update_or_create(
                resource_arn=resource.arn, key=tag["Key"], defaults={"value": tag["Value"]}
            )
    return clean


def resource_tags_delete(*, user, resource_arn: str, keys: Iterable[str]) -> None:
    """DeleteTags: remove these keys from the caller's resource (a key it lacks is no error)."""
    resource = resource_by_arn(user=user, resource_arn=resource_arn)
    keys = list(keys)
    for number, key in enumerate(keys, start=1):
        if not isinstance(key, str) or not 1 <= len(key) <= MAX_KEY_LENGTH:
            rule = f"Member must have length between 1 and {MAX_KEY_LENGTH}"
            raise ValidationError(f"TagKeys.{number}", rule, value=key)
    resource_tags(resource.arn).filter(key__in=keys).delete()


def resource_tags_list(*, user, resource_arn: str) -> QuerySet[ResourceTag]:
    """ListTags: the caller's resource's tags, oldest first."""
    resource = resource_by_arn(user=user, resource_arn=resource_arn)
    return resource_tags(resource.arn)
