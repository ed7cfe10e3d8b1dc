"""Loading a variant's model once per instance: one container, or a serial inference pipeline."""

from __future__ import annotations

import tempfile
from pathlib import Path

from infra.config import settings


def load_variant_model(containers: list[dict], *, work_dir: Path | None = None):
    """The :class:`algorithms.Model` answering for ``containers`` (CreateModel's shapes)."""
    from algorithms.loading import load_containers
    from infra.storage import get_store

    base = settings().data_dir / "serving" / "models"
    base.mkdir(parents=True, exist_ok=True)
    work_dir = work_dir or Path(tempfile.mkdtemp(prefix="model-", dir=base))
    return load_containers(containers, get_store(), work_dir=work_dir)
