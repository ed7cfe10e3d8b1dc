"""``auto-labeling``: the classifier automated labeling trains each round on the human labels.

Trains on the ``train`` channel's JSON Lines records ``{"source": <text or CSV row>, "label":
<class index>}`` (any other keys, such as the item's ``id``, are carried into the held-out
output): features and model as :mod:`algorithms.active_learning` fits them. The optional
``unlabeled`` channel's records (``{"source": ...}``, the items still to label) take part in
fitting the features only: word weights, the latent dimensions of text (which words go
together) and column scales then hold for every item.

Beside the model it writes, as output data, ``held_out.jsonl``: each training record's
probabilities from a model trained without it (k-fold), which the labeling flow calibrates its
confidence threshold on; empty when some label has too few records to hold any out. Reports
``validation:accuracy`` of those predictions.

Inference reads JSON Lines records with ``source`` and answers one line per record:
``{"label": <most likely class>, "confidence": <its probability>, "probabilities": [...]}``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from algorithms import active_learning
from algorithms.base import (
    Algorithm,
    Channel,
    DataError,
    Hyperparameter,
    Model,
    Reporter,
    TrainingResult,
    UnsupportedContentType,
    output_data_dir,
)
from algorithms.builtin.fitted import LIBRARIES, load_fitted, save_fitted
from algorithms.codecs import JSONLINES, negotiate, split_content_type
from algorithms.data import channel_files
from algorithms.manifest import write_manifest
from algorithms.registry import register

HELD_OUT_FILE = "held_out.jsonl"
TASK_TYPES = ("text-classification", "tabular-classification")


@register("auto-labeling")
class AutoLabeling(Algorithm):
    training_content_types = (JSONLINES,)
    metrics = ("validation:accuracy",)
    hyperparameters = (
        Hyperparameter("num_classes", "int", required=True, min=2, max=256),
        Hyperparameter("task_type", "str", "text-classification", choices=TASK_TYPES),
        Hyperparameter("held_out_folds", "int", 5, min=2, max=10),
    )

    def train(
        self,
        *,
        channels: dict[str, Channel],
        hyperparameters: dict[str, Any],
        model_dir: Path,
        reporter: Reporter,
    ) -> TrainingResult:
        classes, task_type = hyperparameters["num_classes"], hyperparameters["task_type"]
        records = read_records(channels["train"], classes=classes)
        sources = [record["source"] for record in records]
        labels = np.array([record["label"] for record in records], dtype=int)
        if len(np.unique(labels)) < 2:
            raise DataError("the train channel must hold records of at least two labels")
        unlabeled = []
        if "unlabeled" in channels:
            unlabeled = [r["source"] for r in read_records(channels["unlabeled"], classes=None)]
        try:
            featurizer = active_learning.fit_featurizer(task_type, sources + unlabeled)
            classifier = active_learning.fit_classifier(featurizer, sources, labels, classes)
            held_out = active_learning.held_out_probabilities(
                featurizer, sources, labels, classes, folds=hyperparameters["held_out_folds"]
            )
        except active_learning.FeaturizeError as exc:
            raise DataError(str(exc), source="train") from None
        reporter.log(
            f"trained on {len(records)} records of {len(np.unique(labels))} labels, features "
            f"fitted on {len(unlabeled)} unlabeled records too"
        )
        save_fitted(model_dir, classifier)
        write_manifest(
            model_dir,
            algorithm=self.name,
            hyperparameters=hyperparameters,
            feature_count=0,
            libraries=LIBRARIES,
            details={"num_classes": classes, "task_type": task_type},
        )
        final: dict[str, float] = {}
        lines = []
        if held_out is not None:
            final["validation:accuracy"] = float(np.mean(held_out.argmax(axis=1) == labels))
            reporter.metric("validation:accuracy", final["validation:accuracy"], step=1)
            for record, probs in zip(records, held_out.tolist(), strict=True):
                lines.append(json.dumps({**record, "probabilities": probs}))
        output = output_data_dir(model_dir)
        output.mkdir(parents=True, exist_ok=True)
        (output / HELD_OUT_FILE).write_text("".join(line + "\n" for line in lines))
        return TrainingResult(final_metrics=final)

    @classmethod
    def load(cls, model_dir: Path) -> Model:
        return AutoLabelingModel(load_fitted(model_dir))


def read_records(channel: Channel, *, classes: int | None) -> list[dict[str, Any]]:
    """Every record of a channel, each checked: a JSON object, ``source`` a string and (unless
    ``classes`` is None: unlabeled records) ``label`` a class index below ``classes``."""
    records = []
    for path in channel_files(channel.path):
        name = f"{channel.name}/{path.relative_to(channel.path).as_posix()}"
        for number, line in enumerate(path.read_bytes().splitlines(), start=1):
            if not line.strip():
                continue
            record = _record(line, source=name, line=number)
            label = record.get("label")
            if classes is None:
                records.append(record)
                continue
            if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < classes:
                raise DataError(
                    f"'label' must be a class index from 0 to {classes - 1}",
                    source=name,
                    line=number,
                )
            records.append(record)
    if not records:
        raise DataError("channel has no records", source=channel.name)
    return records


def _record(raw: bytes, *, source: str, line: int) -> dict:
    try:
        record = json.loads(raw)
    except ValueError:
        raise DataError("a record is not JSON", source=source, line=line) from None
    if not isinstance(record, dict) or not isinstance(record.get("source"), str):
        raise DataError(
            "a record must be a JSON object with a 'source' string", source=source, line=line
        )
    return record


class AutoLabelingModel(Model):
    content_types = (JSONLINES,)
    accepts = (JSONLINES,)

    def __init__(self, classifier: active_learning.Classifier) -> None:
        self.classifier = classifier

    def invoke(self, body: bytes, content_type: str, accept: str) -> bytes:
        media_type, _ = split_content_type(content_type)
        if media_type != JSONLINES:
            raise UnsupportedContentType(content_type, self.content_types)
        negotiate(accept, content_type, self.accepts)
        sources = [
            _record(line, source="request", line=number)["source"]
            for number, line in enumerate(body.splitlines(), start=1)
            if line.strip()
        ]
        if not sources:
            return b""
        try:
            probs = self.classifier.probabilities(sources)
        except active_learning.FeaturizeError as exc:
            raise DataError(str(exc)) from None
        return "".join(
            json.dumps({"label": label, "confidence": confidence, "probabilities": row}) + "\n"
            for label, confidence, row in zip(
                probs.argmax(axis=1).tolist(),
                probs.max(axis=1).tolist(),
                probs.tolist(),
                strict=True,
            )
        ).encode()
