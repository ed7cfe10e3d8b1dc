"""What bucket services and selectors refuse, besides the core errors (NotFound, ...)."""

from __future__ import annotations

from console.core.errors import ServiceError


class BucketForbidden(ServiceError):
    """The bucket exists but is not the caller's."""

    def __init__(self, name: str) -> None:
        super().__init__(f"Bucket {name!r} belongs to another account.")
        self.name = name


class BucketTaken(ServiceError):
    """Creating a bucket whose name is in use. ``yours``: by the caller themself."""

    def __init__(self, name: str, *, yours: bool) -> None:
        whose = "you already own it" if yours else "another account owns it"
        super().__init__(f"Bucket {name!r} exists: {whose}.")
        self.name = name
        self.yours = yours
