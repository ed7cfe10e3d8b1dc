"""Console forms that end in a service call show the service's errors next to their fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms

from console.core import errors
from console.core.shapes import ShapeError


class RequestForm(forms.Form):
    """A form that builds a SageMaker request; ``FIELD_OF`` maps request paths to its fields."""

    FIELD_OF: list[tuple[str, str]] = []  # (request path prefix, form field), longest first

    def to_request(self) -> dict[str, Any]:
        raise NotImplementedError

    def submit(self, create: Callable[..., Any], **kwargs: Any) -> Any | None:
        """Call ``create(spec=..., **kwargs)``; on a refused request, record its errors and
        return None."""
        try:
            return create(spec=self.to_request(), **kwargs)
        except ShapeError as exc:
            for violation in exc.violations:
                self._request_error(violation.path, f"{violation.path}: {violation.rule}")
        except errors.ValidationError as exc:
            self._request_error(exc.field, exc.message)
        except (errors.AlreadyExists, errors.NotFound, errors.InvalidState) as exc:
            self._request_error("", exc.message)
        return None

    def _request_error(self, path: str, message: str) -> None:
        field = next((f for prefix, f in self.FIELD_OF if prefix and path.startswith(prefix)), None)
        self.add_error(field, message)
