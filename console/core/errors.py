"""Typed errors raised by services; each adapter maps them to its own shape in one place."""

from __future__ import annotations


class ServiceError(Exception):
    """Base of every error a service raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(ServiceError):
    """A field breaks a rule. ``field`` is the wire path (``TrainingJobName``,
    ``ResourceConfig.InstanceCount``); ``rule`` says what the value must satisfy."""

    def __init__(self, field: str, rule: str, *, value: object = None) -> None:
        shown = "" if value is None else f"Value {value!r} at "
        super().__init__(f"{shown}'{field}' failed to satisfy constraint: {rule}")
        self.field = field
        self.rule = rule
        self.value = value


class NotFound(ServiceError):
    """The named resource does not exist (or is not the caller's)."""

    def __init__(self, resource: str, name: str, *, arn: str | None = None) -> None:
        super().__init__(f"{resource} {name!r} not found.")
        self.resource = resource
        self.name = name
        self.arn = arn


class AlreadyExists(ServiceError):
    """A resource with this name exists already."""

    def __init__(self, resource: str, name: str, *, arn: str, message: str | None = None) -> None:
        super().__init__(message or f"{resource} {name!r} already exists ({arn}).")
        self.resource = resource
        self.name = name
        self.arn = arn


class InvalidState(ServiceError):
    """The operation is not allowed in the resource's current status."""


class LimitExceeded(ServiceError):
    """A platform limit (e.g. concurrent jobs) would be exceeded."""
