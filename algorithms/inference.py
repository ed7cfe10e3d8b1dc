"""Serving a script-mode model with the user's handlers, as SageMaker's inference toolkit does.

``code/inference.py`` (or, failing that, the training script) in the model directory provides
``model_fn(model_dir)`` and optionally ``input_fn``, ``predict_fn``, ``output_fn`` or one
``transform_fn``; defaults fill in the rest. The defaults read and write what the toolkit's
``decoder``/``encoder`` do (``application/x-npy``, ``text/csv``, ``application/json``, and
``application/x-npz`` in), so the SDK's ``SKLearnPredictor`` and ``PyTorchPredictor`` work with
their default NumPy serializer and deserializer. A handler that takes one argument more is given
the request's ``context`` (``algorithms.inference_context``): the caller's ``CustomAttributes``
come in on it, and a ``CustomAttributes`` response header set on it goes back. The user's code
runs with the platform's rights.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import inspect
import json
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import orjson

from algorithms.base import AlgorithmError, DataError, Model, UnsupportedContentType
from algorithms.codecs import (
    CSV,
    JSON,
    JSONLINES,
    NPY,
    NPZ,
    decode,
    decode_npy,
    decode_npz,
    encode_npy,
    split_content_type,
)
from algorithms.inference_context import InferenceContext, custom_attributes_problem
from algorithms.manifest import read_manifest

MODEL_CODE_DIR = "code"
INFERENCE_SCRIPT = "inference.py"
# Bodies of these types reach ``input_fn`` as ``str``, as the scikit-learn container passes
# them; user handlers are commonly written as ``pd.read_csv(io.StringIO(body))``.
_TEXT_TYPES = (CSV, JSON, JSONLINES, "text/plain")
# What the default input_fn reads and the default output_fn writes; the first answers a
# request with no preference (the toolkit's default Accept).
REQUEST_TYPES = (JSON, CSV, NPY, NPZ, JSONLINES)
RESPONSE_TYPES = (JSON, CSV, NPY, JSONLINES)


class InferenceScriptError(AlgorithmError):
    """The user's inference code cannot serve: names the file and what it lacks."""


class ScriptModel(Model):
    """A model served by the user's handler functions."""

    content_types = REQUEST_TYPES
    accepts = RESPONSE_TYPES
    # The serving batcher passes a request's CustomAttributes to ``invoke``.
    reads_custom_attributes = True

    def __init__(self, *, model: Any, handlers: ModuleType, model_dir: str = "") -> None:
        self.model = model
        self.model_dir = model_dir
        self._transform_fn: Callable[..., Any] | None = getattr(handlers, "transform_fn", None)
        self._input_fn = getattr(handlers, "input_fn", default_input_fn)
        self._predict_fn = getattr(handlers, "predict_fn", default_predict_fn)
        self._output_fn = getattr(handlers, "output_fn", None)

    @classmethod
    def load(cls, model_dir: Path) -> ScriptModel:
        handlers = import_handlers(model_dir)
        model_fn = getattr(handlers, "model_fn", None)
        if model_fn is None:
            raise InferenceScriptError(
                f"{handlers.__file__} defines no model_fn(model_dir); "
                "script mode cannot guess how the script saved its model"
            )
        context = InferenceContext(model_dir=str(model_dir))
        model = _call(model_fn, str(model_dir), context=context)
        return cls(model=model, handlers=handlers, model_dir=str(model_dir))

    def response_type(self, content_type: str, accept: str) -> str:
        """The answer's Content-Type: the ``Accept`` the handlers are given (the toolkit's
        default, JSON, for none or ``*/*``); the default output_fn picks the first entry it
        writes."""
        accept = _accept(accept)
        if self._transform_fn is not None or self._output_fn is not None:
            return accept
        return response_media_type(accept)

    def invoke(
        self, body: bytes, content_type: str, accept: str, *, custom_attributes: str = ""
    ) -> bytes:
        accept = _accept(accept)
        media_type, _ = split_content_type(content_type)
        data: bytes | str = body.decode("utf-8") if media_type in _TEXT_TYPES else body
        context = InferenceContext.for_request(
            model_dir=self.model_dir,
            content_type=content_type,
            accept=accept,
            custom_attributes=custom_attributes,
        )
        if self._transform_fn is not None:
            result = _call(
                self._transform_fn, self.model, data, content_type, accept, context=context
            )
        else:
            features = _call(self._input_fn, data, content_type, context=context)
            prediction = _call(self._predict_fn, features, self.model, context=context)
            output_fn = self._output_fn or default_output_fn
            result = _call(output_fn, prediction, accept, context=context)
        return _as_bytes(result, custom_attributes=_answered_attributes(context))


def _call(handler: Callable[..., Any], *arguments: Any, context: InferenceContext) -> Any:
    """``handler(*arguments)``, or with ``context`` after them when it takes one argument
    more, as the inference toolkit calls a handler."""
    if _arity(handler) == len(arguments) + 1:
        return handler(*arguments, context)
    return handler(*arguments)


def _arity(handler: Callable[..., Any]) -> int:
    try:
        return _cached_arity(handler)
    except TypeError:  # an unhashable callable object: read each time
        return _signature_arity(handler)


@functools.lru_cache(maxsize=256)  # read per request: a signature costs microseconds each time
def _cached_arity(handler: Callable[..., Any]) -> int:
    return _signature_arity(handler)


def _signature_arity(handler: Callable[..., Any]) -> int:
    try:
        return len(inspect.signature(handler).parameters)
    except (TypeError, ValueError):  # a builtin without a signature takes what it is given
        return -1


def _answered_attributes(context: InferenceContext) -> str:
    value = context.response_custom_attributes()
    if problem := custom_attributes_problem(value):
        raise InferenceScriptError(
            f"the handlers set the response's CustomAttributes to a value that breaks "
            f"InvokeEndpoint's rule: {problem}"
        )
    return value


def _accept(accept: str | None) -> str:
    # As the inference toolkit: no preference means its default Accept, JSON.
    if not accept or accept.strip() == "*/*":
        return JSON
    return accept


def import_handlers(model_dir: Path) -> ModuleType:
    """Import ``code/inference.py``, else the training script the manifest names."""
    code_dir = Path(model_dir) / MODEL_CODE_DIR
    script = code_dir / INFERENCE_SCRIPT
    if not script.is_file():
        program = read_manifest(Path(model_dir)).details.get("program")
        script = code_dir / program if program else script
    if not script.is_file():
        raise InferenceScriptError(
            f"{model_dir} has no {MODEL_CODE_DIR}/{INFERENCE_SCRIPT} defining model_fn(model_dir)"
        )
    # A name of its own per model, so that two models in one process never share a module.
    digest = hashlib.sha1(str(script.resolve()).encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(f"sagebrush_user_{digest}", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # The user's handlers may import their own helper modules next to them.
    if str(code_dir) not in sys.path:
        sys.path.insert(0, str(code_dir))
    spec.loader.exec_module(module)
    return module


def default_input_fn(data: bytes | str, content_type: str) -> Any:
    """The request as an array, as the toolkit's decoder reads it: ``application/x-npy`` as
    saved, ``application/x-npz`` as a sparse matrix, JSON as the nested lists it holds (or the
    ``{"instances": ...}`` / ``{"features": ...}`` records the built-ins take), CSV and JSON
    Lines one row a line. A single record (a 1-d array) becomes one row."""
    body = data.encode("utf-8") if isinstance(data, str) else data
    media_type, _ = split_content_type(content_type)
    if media_type == NPY:
        array = decode_npy(body)
    elif media_type == NPZ:
        return decode_npz(body)
    elif media_type == JSON:
        array = _json_array(body, content_type)
    elif media_type in (CSV, JSONLINES):
        return decode(body, content_type)
    else:
        raise UnsupportedContentType(content_type, REQUEST_TYPES)
    return array.reshape(1, -1) if array.ndim == 1 else array


def _json_array(body: bytes, content_type: str) -> np.ndarray:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise DataError(f"not valid JSON: {error.msg}", line=error.lineno) from None
    if isinstance(document, dict) or (
        isinstance(document, list) and document and isinstance(document[0], dict)
    ):
        return decode(body, content_type)  # the built-ins' record shapes
    try:
        array = np.array(document, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError("expected numbers in nested lists of equal lengths") from None
    return array


def default_predict_fn(data: Any, model: Any) -> Any:
    """``model.predict(data)`` for scikit-learn-style models; a forward pass for torch modules."""
    # Only a process that imported torch can hold a torch module; sklearn models skip the import.
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(model, torch.nn.Module):
        device = next(model.parameters(), torch.empty(0)).device
        model.eval()
        with torch.no_grad():
            output = model(torch.as_tensor(np.asarray(data), dtype=torch.float32, device=device))
        return output.cpu().numpy()
    if hasattr(model, "predict"):
        return model.predict(data)
    return model(data)


def response_media_type(accept: str) -> str:
    """The first type of ``accept`` (a comma-separated list) that the default output_fn writes;
    :class:`UnsupportedContentType` when none is."""
    for candidate in accept.split(","):
        media_type, _ = split_content_type(candidate)
        if media_type in ("*/*", "application/*"):
            return JSON
        if media_type in RESPONSE_TYPES:
            return media_type
    raise UnsupportedContentType(accept, RESPONSE_TYPES)


def default_output_fn(prediction: Any, accept: str) -> bytes:
    """SageMaker's default encoding: a JSON array, a NumPy ``.npy`` array, or one CSV/JSON line
    per record."""
    response_type = response_media_type(accept)
    prediction = _as_numpy(prediction)
    if response_type == NPY:
        return encode_npy(prediction)
    values = prediction.tolist() if hasattr(prediction, "tolist") else prediction
    if response_type == JSON:
        return json.dumps(values).encode()
    rows = values if isinstance(values, list) else [values]
    if response_type == JSONLINES:
        return b"".join(json.dumps(row).encode() + b"\n" for row in rows)
    lines = (",".join(map(str, row)) if isinstance(row, list) else str(row) for row in rows)
    return "".join(line + "\n" for line in lines).encode()


def _as_numpy(prediction: Any) -> Any:
    """A torch tensor as a NumPy array (as the PyTorch container's output_fn converts it)."""
    if hasattr(prediction, "detach") and hasattr(prediction, "cpu"):
        return prediction.detach().cpu().numpy()
    return prediction


class Answer(bytes):
    """A handler's answer with what it says about itself: the Content-Type it names
    (``(body, content_type)``, as the inference toolkit lets ``output_fn``/``transform_fn``
    return) and the CustomAttributes it set on the context; the serving layer uses both."""

    content_type: str | None = None
    custom_attributes: str = ""


def _as_bytes(result: Any, *, custom_attributes: str = "") -> bytes:
    content_type = None
    if isinstance(result, tuple):  # (body, content type), as the toolkits also allow
        result, content_type = result[0], (result[1] if len(result) > 1 else None)
    body = bytes(result) if isinstance(result, bytes | bytearray) else str(result).encode("utf-8")
    named = isinstance(content_type, str) and bool(content_type)
    if not named and not custom_attributes:
        return body
    answer = Answer(body)
    answer.content_type = content_type if named else None
    answer.custom_attributes = custom_attributes
    return answer
