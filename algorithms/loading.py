"""Models loaded from storage: one ``model.tar.gz``, or the containers of a registered model.

Hosting and batch transform both start here. Several containers make a serial inference
pipeline: each stage's response is the next stage's request, as SageMaker chains them.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from algorithms import load_model
from algorithms.artifacts import unpack_model
from algorithms.base import Model
from algorithms.codecs import split_content_type
from infra.storage import ObjectStore


def load_model_uri(
    model_data_url: str, store: ObjectStore, *, work_dir: Path | None = None, image: str = ""
) -> Model:
    """Download and unpack a ``model.tar.gz`` (or read a local model directory) and load it;
    ``image`` (the container's) names the algorithm of an artifact that has no manifest."""
    if not model_data_url.startswith("s3://"):
        return load_model(Path(model_data_url.removeprefix("file://")), image=image)
    if work_dir is not None:
        work_dir.mkdir(parents=True, exist_ok=True)
    model_dir = Path(tempfile.mkdtemp(prefix="sagebrush-model-", dir=work_dir))
    tarball = model_dir / "model.tar.gz"
    store.download_file(model_data_url, str(tarball))
    unpack_model(tarball, model_dir / "model")
    tarball.unlink()
    return load_model(model_dir / "model", image=image)


def load_containers(
    containers: Sequence[Mapping[str, Any]], store: ObjectStore, *, work_dir: Path | None = None
) -> Model:
    """One model for a registered model's containers (``{"Image", "ModelDataUrl", ...}``),
    unpacked under ``work_dir`` (the system's temporary directory when None)."""
    stages = []
    for container in containers:
        image = container.get("Image", "")
        stage = load_model_uri(container["ModelDataUrl"], store, work_dir=work_dir, image=image)
        stage.image = image
        stages.append(stage)
    return stages[0] if len(stages) == 1 else PipelineModel(stages)


class PipelineModel(Model):
    """A serial inference pipeline: stage ``i``'s output, in the request's content type when the
    stage can write it, is stage ``i + 1``'s input; the last stage answers in ``accept``."""

    def __init__(self, stages: Sequence[Model]) -> None:
        self.stages = list(stages)
        self.content_types = self.stages[0].content_types
        self.accepts = self.stages[-1].accepts

    def realtime_answer(self, body: bytes, response_type: str) -> bytes:
        return self.stages[-1].realtime_answer(body, response_type)

    def invoke(self, body: bytes, content_type: str, accept: str) -> bytes:
        for stage, following in zip(self.stages, self.stages[1:], strict=False):
            between = _handover_type(content_type, stage, following)
            body, content_type = stage.invoke(body, content_type, between), between
        return self.stages[-1].invoke(body, content_type, accept)


def _handover_type(content_type: str, stage: Model, following: Model) -> str:
    """Keep the request's own type between stages where both sides speak it (CSV stays CSV)."""
    media_type, _ = split_content_type(content_type)
    for candidate in (media_type, *stage.accepts):
        if candidate in stage.accepts and candidate in following.content_types:
            return candidate
    return stage.accepts[0]
