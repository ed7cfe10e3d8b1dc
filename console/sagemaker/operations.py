"""The registry of SageMaker operations this platform answers, keyed by operation name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Handler = Callable[..., dict[str, Any]]
OPERATIONS: dict[str, Handler] = {}


def operation(name: str) -> Callable[[Handler], Handler]:
    """Register ``handler(*, user, params) -> response dict`` for ``SageMaker.<name>``."""

    def register(handler: Handler) -> Handler:
        OPERATIONS[name] = handler
        return handler

    return register
