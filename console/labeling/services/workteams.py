"""Writes to work teams: CreateWorkteam, UpdateWorkteam, DeleteWorkteam."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.db import transaction

from console.core.errors import AlreadyExists, InvalidState, ValidationError
from console.core.names import account_id_for, arn
from console.core.services import owned_resource_create
from console.core.shapes import validate_request
from console.labeling.models import Workteam
from console.labeling.selectors import workteam_get

EXTRA_FIELDS = ("NotificationConfiguration", "WorkerAccessConfiguration")


def workteam_create(*, user, spec: dict[str, Any]) -> Workteam:
    """CreateWorkteam: the member definitions must name existing platform groups."""
    validate_request("CreateWorkteam", spec)
    groups = _group_names(spec["MemberDefinitions"])
    name = spec["WorkteamName"]
    team_arn = arn("workteam/private-crowd", name, account_id=account_id_for(user.pk))
    return owned_resource_create(
        Workteam,
        owner=user,
        tags=spec.get("Tags"),
        name=name,
        duplicate=AlreadyExists("Workteam", name, arn=team_arn),
        description=spec["Description"],
        member_definitions=spec["MemberDefinitions"],
        group_names=groups,
        spec={field: spec[field] for field in EXTRA_FIELDS if field in spec},
    )


def workteam_update(*, user, spec: dict[str, Any]) -> Workteam:
    """UpdateWorkteam: replace the members, description or notification settings given."""
    validate_request("UpdateWorkteam", spec)
    groups = _group_names(spec["MemberDefinitions"]) if "MemberDefinitions" in spec else None
    with transaction.atomic():
        team = workteam_get(user=user, name=spec["WorkteamName"], for_update=True)
        if groups is not None:
            team.member_definitions, team.group_names = spec["MemberDefinitions"], groups
        if "Description" in spec:
            team.description = spec["Description"]
        team.spec = {**team.spec, **{f: spec[f] for f in EXTRA_FIELDS if f in spec}}
        team.save()
    return team


def workteam_delete(*, user, name: str) -> None:
    """DeleteWorkteam; refused while a job of the team is running."""
    with transaction.atomic():
        team = workteam_get(user=user, name=name, for_update=True)
        if team.labeling_jobs.filter(
            status__in=("Initializing", "InProgress", "Stopping")
        ).exists():
            raise InvalidState(f"Work team {name!r} is in use by a running labeling job.")
        team.delete()


def _group_names(definitions: list[dict[str, Any]]) -> list[str]:
    """The platform groups named by ``OidcMemberDefinition.Groups`` or a
    ``CognitoMemberDefinition.UserGroup``; each must exist."""
    names: list[str] = []
    kinds = set()
    for number, definition in enumerate(definitions, start=1):
        field = f"MemberDefinitions.{number}"
        if "OidcMemberDefinition" in definition:
            kinds.add("oidc")
            given = definition["OidcMemberDefinition"].get("Groups")
            if not given:
                raise ValidationError(
                    f"{field}.OidcMemberDefinition.Groups", "Member must not be empty"
                )
            pairs = [
                (f"{field}.OidcMemberDefinition.Groups.{i}", g) for i, g in enumerate(given, 1)
            ]
        elif "CognitoMemberDefinition" in definition:
            kinds.add("cognito")
            group = definition["CognitoMemberDefinition"]["UserGroup"]
            pairs = [(f"{field}.CognitoMemberDefinition.UserGroup", group)]
        else:
            rule = "Member must have an OidcMemberDefinition or a CognitoMemberDefinition"
            raise ValidationError(field, rule)
        for path, group in pairs:
            if not Group.objects.filter(name=group).exists():
                raise ValidationError(
                    path, "Member must name an existing platform group", value=group
                )
            if group not in names:
                names.append(group)
    if len(kinds) > 1:
        rule = "Member definitions must be all OIDC or all Cognito, not both"
        raise ValidationError("MemberDefinitions", rule)
    return names
