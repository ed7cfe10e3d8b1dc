"""The ``context`` that SageMaker's inference toolkits hand to a script's handlers, and the rule
for the ``CustomAttributes`` it carries each way.

A handler that takes one argument more than the toolkit's (``model_fn(model_dir, context)``,
``input_fn(data, content_type, context)``, ``transform_fn(model, data, content_type, accept,
context)``, ...) is given this object, as ``sagemaker_inference``'s transformer does. Its methods
are the model server's (``request_processor[0].get_request_properties()``,
``get_request_header``, ``set_response_header``, ``system_properties``), and it has the
TensorFlow Serving container's ``custom_attributes``. A script returns attributes to the caller
by setting the ``X-Amzn-SageMaker-Custom-Attributes`` response header; SageMaker sends back
only what the model sets.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

CUSTOM_ATTRIBUTES_HEADER = "X-Amzn-SageMaker-Custom-Attributes"
CUSTOM_ATTRIBUTES_MAX = 1024  # InvokeEndpoint's limit, each way


def custom_attributes_problem(value: str) -> str | None:
    """Why ``value`` cannot be a ``CustomAttributes`` header (None when it can): at most 1024
    visible US-ASCII characters (spaces and tabs between them allowed, as in any header)."""
    if len(value) > CUSTOM_ATTRIBUTES_MAX:
        return f"Member must have length less than or equal to {CUSTOM_ATTRIBUTES_MAX}"
    if any(not (" " <= char <= "~" or char == "\t") for char in value):
        return "Member must consist of visible US-ASCII characters"
    return None


class Headers(dict):
    """Request headers as sent, read in any case (HTTP header names are case-insensitive)."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        super().__init__(headers)
        self._lower = {name.lower(): name for name in headers}

    def get(self, key: str, default: Any = None) -> Any:
        name = self._lower.get(key.lower())
        return default if name is None else super().get(name, default)

    def __getitem__(self, key: str) -> Any:
        return super().__getitem__(self._lower.get(key.lower(), key))

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._lower


class RequestProcessor:
    """One request's headers, and the status and headers of its answer."""

    def __init__(self, request_header: Mapping[str, str]) -> None:
        self._request_header = Headers(request_header)
        self._response_header: dict[str, str] = {}
        self._status_code = 200
        self._reason_phrase: str | None = None

    def get_request_property(self, key: str) -> str | None:
        return self._request_header.get(key)

    def get_request_properties(self) -> dict:
        return self._request_header

    def report_status(self, code: int, reason_phrase: str | None = None) -> None:
        self._status_code = code
        self._reason_phrase = reason_phrase

    def get_response_status_code(self) -> int:
        return self._status_code

    def get_response_status_phrase(self) -> str | None:
        return self._reason_phrase

    def add_response_property(self, key: str, value: str) -> None:
        self._response_header[key] = value

    def get_response_headers(self) -> dict:
        return self._response_header

    def get_response_header(self, key: str) -> str | None:
        return Headers(self._response_header).get(key)


class InferenceContext:
    """What a handler's ``context`` argument offers, for one request (or none, in ``model_fn``)."""

    def __init__(
        self,
        *,
        model_dir: str,
        headers: Mapping[str, str] | None = None,
        request_id: str = "",
    ) -> None:
        self.model_name = "model"
        self.manifest: dict = {}
        self.metrics = None
        self._system_properties = {
            "model_dir": model_dir,
            "gpu_id": None,
            "batch_size": 1,
            "server_name": "Sagebrush",
            "server_version": "",
        }
        self.request_ids = {0: request_id} if request_id else None
        self.request_processor = [RequestProcessor(headers or {})]

    @classmethod
    def for_request(
        cls, *, model_dir: str, content_type: str, accept: str, custom_attributes: str
    ) -> InferenceContext:
        headers = {"Content-Type": content_type, "Accept": accept}
        if custom_attributes:
            headers[CUSTOM_ATTRIBUTES_HEADER] = custom_attributes
        return cls(model_dir=model_dir, headers=headers)

    @property
    def system_properties(self) -> dict:
        return self._system_properties

    # The TensorFlow Serving container's names for the request's headers.
    @property
    def custom_attributes(self) -> str:
        return self.get_request_header(0, CUSTOM_ATTRIBUTES_HEADER) or ""

    @property
    def request_content_type(self) -> str:
        return self.get_request_header(0, "Content-Type") or ""

    @property
    def accept_header(self) -> str:
        return self.get_request_header(0, "Accept") or ""

    def get_request_id(self, idx: int = 0) -> str | None:
        return None if self.request_ids is None else self.request_ids.get(idx)

    def get_request_header(self, idx: int, key: str) -> str | None:
        return self.request_processor[idx].get_request_property(key)

    def get_all_request_header(self, idx: int) -> dict:
        return self.request_processor[idx].get_request_properties()

    def set_response_header(self, idx: int, key: str, value: str) -> None:
        self.request_processor[idx].add_response_property(key, value)

    def get_response_headers(self, idx: int) -> dict:
        return self.request_processor[idx].get_response_headers()

    def set_response_content_type(self, idx: int, value: str) -> None:
        self.set_response_header(idx, "content-type", value)

    def get_response_content_type(self, idx: int) -> str | None:
        return self.request_processor[idx].get_response_header("content-type")

    def set_response_status(self, code: int = 200, phrase: str = "", idx: int = 0) -> None:
        self.request_processor[idx].report_status(code, reason_phrase=phrase)

    def get_response_status(self, idx: int) -> tuple[int, str | None]:
        processor = self.request_processor[idx]
        return processor.get_response_status_code(), processor.get_response_status_phrase()

    def response_custom_attributes(self) -> str:
        """What the handlers set as the answer's ``CustomAttributes`` ("" for nothing)."""
        value = self.request_processor[0].get_response_header(CUSTOM_ATTRIBUTES_HEADER)
        return "" if value is None else str(value)
