"""The files a labeling job writes, in Ground Truth's layout under ``<S3OutputPath>/<job>/``:
``manifests/output/output.manifest``, ``manifests/intermediate/<n>/output.manifest`` while it
runs, ``annotations/`` (every worker's answer, and each item's consolidated label) and
``activelearning/`` (each round of automated labeling). The automated-labeling flow writes
``training/`` and ``inference/`` beside them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from console.labeling.models import HumanAnswer, LabelingItem, LabelingJob, LabelingRound
from infra.storage import get_store

NOT_LABELED = "The job ended before this object was labeled."


def _under(prefix: str, key: str) -> str:
    return f"{prefix.rstrip('/')}/{key}"


def job_prefix(job: LabelingJob) -> str:
    return _under(job.spec["OutputConfig"]["S3OutputPath"], job.name)


def output_manifest_uri(job: LabelingJob) -> str:
    return _under(job_prefix(job), "manifests/output/output.manifest")


def intermediate_manifest_uri(job: LabelingJob, iteration: int) -> str:
    return _under(job_prefix(job), f"manifests/intermediate/{iteration}/output.manifest")


def output_line(job: LabelingJob, item: LabelingItem) -> dict[str, Any]:
    """The item's input line plus ``<attr>`` (the class index) and ``<attr>-metadata``; an item
    left without a label carries only its metadata, saying why."""
    attribute = job.label_attribute_name
    metadata: dict[str, Any] = {
        "type": f"groundtruth/{job.task_type}",
        "job-name": f"labeling-job/{job.name}",
        "human-annotated": "yes" if item.human_annotated else "no",
    }
    line = dict(item.line)
    if item.label is None:
        metadata["failure-reason"] = NOT_LABELED
        line[f"{attribute}-metadata"] = metadata
        return line
    line[attribute] = str(item.label)  # Ground Truth writes the class index as a string
    line[f"{attribute}-metadata"] = {
        "class-name": job.categories[item.label],
        "confidence": round(item.confidence or 0.0, 2),
        **metadata,
        "creation-date": item.labeled_at.replace(tzinfo=None).isoformat(timespec="microseconds"),
    }
    if item.tie:
        line[f"{attribute}-metadata"]["tie"] = "yes"
    return line


def manifest_bytes(job: LabelingJob, items: Iterable[LabelingItem]) -> bytes:
    return "".join(json.dumps(output_line(job, item)) + "\n" for item in items).encode()


def write_output(job: LabelingJob) -> str:
    """Write the output manifest and the annotations; return the manifest's URI."""
    store, items = get_store(), list(job.items.order_by("index"))
    uri = output_manifest_uri(job)
    store.write_bytes(uri, manifest_bytes(job, items))
    prefix = job_prefix(job)
    store.write_bytes(
        _under(prefix, "annotations/worker-response/iteration-1/answers.jsonl"),
        _answers_bytes(job),
    )
    store.write_bytes(
        _under(prefix, "annotations/consolidated-annotation/output/iteration-1/labels.jsonl"),
        "".join(
            json.dumps(output_line(job, item)) + "\n" for item in items if item.label is not None
        ).encode(),
    )
    return uri


def write_intermediate(job: LabelingJob, iteration: int) -> str:
    """The labeled items so far, as the output manifest will hold them."""
    uri = intermediate_manifest_uri(job, iteration)
    labeled = job.items.exclude(label=None).order_by("index")
    get_store().write_bytes(uri, manifest_bytes(job, labeled))
    return uri


def write_round(job: LabelingJob, round_: LabelingRound) -> str:
    """``activelearning/round-<n>.json``: what a round of automated labeling decided."""
    uri = _under(job_prefix(job), f"activelearning/round-{round_.number}.json")
    record = {
        "round": round_.number,
        "threshold": round_.threshold,
        "estimated-accuracy": round_.estimated_accuracy,
        "machine-labeled": round_.machine_labeled,
        "human-labeled": round_.human_labeled,
        "model-arn": round_.model_arn,
        "training-job-name": round_.training_job_name,
        "transform-job-name": round_.transform_job_name,
    }
    get_store().write_bytes(uri, json.dumps(record).encode())
    return uri


def _answers_bytes(job: LabelingJob) -> bytes:
    answers = HumanAnswer.objects.filter(item__job=job).select_related("item", "worker")
    return "".join(
        json.dumps(
            {
                "dataObjectId": str(answer.item.index),
                "workerId": answer.worker.get_username(),
                "label": answer.label,
                "class-name": job.categories[answer.label],
                "submissionTime": answer.answered_at.replace(tzinfo=None).isoformat(),
            }
        )
        + "\n"
        for answer in answers.order_by("item__index", "answered_at", "pk")
    ).encode()
