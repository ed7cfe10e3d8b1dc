"""``MODEL_MANIFEST``: the JSON file that makes a model directory self-describing.

It names the algorithm (so :func:`algorithms.load_model` needs nothing else), and records the
hyperparameters, the feature count and the library versions the model was trained with.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from algorithms.base import MODEL_MANIFEST, AlgorithmError


class ModelDirectoryError(AlgorithmError, ValueError):
    """A model directory without a readable manifest."""


@dataclass(frozen=True)
class Manifest:
    algorithm: str
    hyperparameters: dict[str, Any]
    feature_count: int
    libraries: dict[str, str] = field(default_factory=dict)
    created_at: str = ""
    # Anything else the algorithm needs to load (class labels, output shape, ...).
    details: dict[str, Any] = field(default_factory=dict)


def write_manifest(
    model_dir: Path,
    *,
    algorithm: str,
    hyperparameters: dict[str, Any],
    feature_count: int,
    libraries: tuple[str, ...] = (),
    details: dict[str, Any] | None = None,
) -> Manifest:
    """Write the manifest; ``libraries`` are distribution names whose versions get recorded."""
    manifest = Manifest(
        algorithm=algorithm,
        hyperparameters=hyperparameters,
        feature_count=feature_count,
        libraries={name: _version(name) for name in ("numpy", *libraries)},
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        details=details or {},
    )
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / MODEL_MANIFEST).write_text(json.dumps(asdict(manifest), indent=2) + "\n")
    return manifest


def read_manifest(model_dir: Path) -> Manifest:
    path = Path(model_dir) / MODEL_MANIFEST
    try:
        data = json.loads(path.read_text())
        return Manifest(**data)
    except FileNotFoundError:
        raise ModelDirectoryError(
            f"{model_dir} is not a model directory: no {MODEL_MANIFEST}"
        ) from None
    except (ValueError, TypeError) as error:
        raise ModelDirectoryError(f"{path} is not a valid model manifest: {error}") from None


def _version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "unknown"
