"""Serving a script-mode model with the user's handlers, as SageMaker's inference toolkit does.

``code/inference.py`` (or, failing that, the training script) in the model directory provides
``model_fn(model_dir)`` and optionally ``input_fn``, ``predict_fn``, ``output_fn`` or one
``transform_fn``; defaults fill in the rest. The user's code runs with the platform's rights.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from algorithms.base import AlgorithmError, Model
from algorithms.codecs import CSV, JSON, JSONLINES, decode, negotiate, split_content_type
from algorithms.manifest import read_manifest

MODEL_CODE_DIR = "code"
INFERENCE_SCRIPT = "inference.py"
# Bodies of these types reach ``input_fn`` as ``str``, as the scikit-learn container passes
# them; user handlers are commonly written as ``pd.read_csv(io.StringIO(body))``.
_TEXT_TYPES = (CSV, JSON, JSONLINES, "text/plain")


class InferenceScriptError(AlgorithmError):
    """The user's inference code cannot serve: names the file and what it lacks."""


class ScriptModel(Model):
    """A model served by the user's handler functions."""

    def __init__(self, *, model: Any, handlers: ModuleType) -> None:
        self.model = model
        self._transform_fn: Callable[..., Any] | None = getattr(handlers, "transform_fn", None)
        self._input_fn = getattr(handlers, "input_fn", default_input_fn)
        self._predict_fn = getattr(handlers, "predict_fn", default_predict_fn)
        self._output_fn = getattr(handlers, "output_fn", default_output_fn)

    @classmethod
    def load(cls, model_dir: Path) -> ScriptModel:
        handlers = import_handlers(model_dir)
        model_fn = getattr(handlers, "model_fn", None)
        if model_fn is None:
            raise InferenceScriptError(
                f"{handlers.__file__} defines no model_fn(model_dir); "
                "script mode cannot guess how the script saved its model"
            )
        return cls(model=model_fn(str(model_dir)), handlers=handlers)

    def invoke(self, body: bytes, content_type: str, accept: str) -> bytes:
        # As the inference toolkit: no preference means its default Accept, JSON.
        if not accept or accept.strip() == "*/*":
            accept = JSON
        media_type, _ = split_content_type(content_type)
        data: bytes | str = body.decode("utf-8") if media_type in _TEXT_TYPES else body
        if self._transform_fn is not None:
            result = self._transform_fn(self.model, data, content_type, accept)
        else:
            features = self._input_fn(data, content_type)
            prediction = self._predict_fn(features, self.model)
            result = self._output_fn(prediction, accept)
        return _as_bytes(result)


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


def default_input_fn(data: bytes | str, content_type: str) -> np.ndarray:
    """A float matrix from CSV, JSON Lines or JSON, one row per record."""
    body = data.encode("utf-8") if isinstance(data, str) else data
    return decode(body, content_type)


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


def default_output_fn(prediction: Any, accept: str) -> bytes:
    """SageMaker's default encoding: a JSON array, or one CSV/JSON line per record."""
    response_type = negotiate(accept, JSON)
    values = prediction.tolist() if hasattr(prediction, "tolist") else prediction
    if response_type == JSON:
        return json.dumps(values).encode()
    rows = values if isinstance(values, list) else [values]
    if response_type == JSONLINES:
        return b"".join(json.dumps(row).encode() + b"\n" for row in rows)
    lines = (",".join(map(str, row)) if isinstance(row, list) else str(row) for row in rows)
    return "".join(line + "\n" for line in lines).encode()


def _as_bytes(result: Any) -> bytes:
    if isinstance(result, tuple):  # (body, content type), as the toolkits also allow
        result = result[0]
    if isinstance(result, bytes | bytearray):
        return bytes(result)
    return str(result).encode("utf-8")
