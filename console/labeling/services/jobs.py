"""Writes to a labeling job: create and stop (adapters), and the flow's reports: start, send
items to people, machine labels, rounds of active learning, intermediate manifests and the end."""

from __future__ import annotations

import json
import secrets
from typing import Any, Literal

from django.db import transaction
from django.utils import timezone

from console.buckets.selectors import bucket_check_request, bucket_store
from console.core.errors import AlreadyExists, InvalidState, ValidationError
from console.core.names import account_id_for, arn
from console.core.services import job_start_flow, owned_resource_create
from console.core.shapes import validate_request
from console.core.uris import check_output_bucket
from console.labeling import manifests, specs
from console.labeling.models import LabelingItem, LabelingJob, LabelingRound
from console.labeling.selectors import labeling_job_counters, labeling_job_get, workteam_by_arn
from infra.storage import get_store

DEPLOYMENT = "labeling/sagebrush"
# MaxConcurrentTaskCount when the request leaves it out (SageMaker's default).
DEFAULT_MAX_CONCURRENT_TASKS = 1000


def labeling_job_create(*, user, spec: dict[str, Any]) -> LabelingJob:
    """Validate a CreateLabelingJob request whole (its shape, the attribute name, the work team,
    the label categories and every manifest line), save the job Initializing and start its flow
    run. Nothing is written for a request refused."""
    validate_request("CreateLabelingJob", spec)
    bucket_check_request(user=user, request=spec)
    specs.check_attribute_name(spec["LabelAttributeName"])
    specs.query_strategy_of(spec)
    task = spec["HumanTaskConfig"]
    workteam = workteam_by_arn(user=user, workteam_arn=task["WorkteamArn"])
    if workteam is None:
        rule = "Member must name an existing work team of yours"
        raise ValidationError("HumanTaskConfig.WorkteamArn", rule, value=task["WorkteamArn"])
    if "SnsDataSource" in spec["InputConfig"]["DataSource"]:
        rule = "Streaming labeling jobs (SnsDataSource) are not supported; give S3DataSource"
        raise ValidationError("InputConfig.DataSource.SnsDataSource", rule)
    if "S3DataSource" not in spec["InputConfig"]["DataSource"]:
        raise ValidationError("InputConfig.DataSource.S3DataSource", "Member must not be null")
    task_type = specs.task_type_of(spec)
    if "LabelingJobAlgorithmsConfig" in spec and task_type == "image-classification":
        rule = "Automated labeling of images is not supported yet; leave it out to label by hand"
        raise ValidationError("LabelingJobAlgorithmsConfig", rule)
    categories = specs.read_categories(spec.get("LabelCategoryConfigS3Uri"))
    _, task_type = specs.read_manifest(
        spec["InputConfig"]["DataSource"]["S3DataSource"]["ManifestS3Uri"],
        task_type=task_type,
        store=bucket_store(user=user),
    )
    check_output_bucket("OutputConfig.S3OutputPath", spec["OutputConfig"]["S3OutputPath"])
    name = spec["LabelingJobName"]
    job_arn = arn("labeling-job", name, account_id=account_id_for(user.pk))
    with transaction.atomic():
        job = owned_resource_create(
            LabelingJob,
            owner=user,
            tags=spec.get("Tags"),
            name=name,
            duplicate=AlreadyExists("LabelingJob", name, arn=job_arn),
            status="Initializing",
            spec=spec,
            workteam=workteam,
            label_attribute_name=spec["LabelAttributeName"],
            task_type=task_type,
            categories=categories,
            job_reference_code=secrets.token_hex(8),
            label_counters=dict.fromkeys(_COUNTERS, 0),
        )
        job_start_flow(job, deployment=DEPLOYMENT)
    return job


_COUNTERS = (
    "TotalLabeled",
    "HumanLabeled",
    "MachineLabeled",
    "FailedNonRetryableError",
    "Unlabeled",
)


def labeling_job_stop(*, user, name: str) -> None:
    """StopLabelingJob: → Stopping; the flow ends it Stopped, every answer given kept."""
    with transaction.atomic():
        job = labeling_job_get(user=user, name=name, for_update=True)
        if job.status == "Stopping":
            return
        if job.status not in ("Initializing", "InProgress"):
            raise InvalidState(
                f"The request was rejected because the labeling job is in status {job.status}."
            )
        job.status = "Stopping"
        job.save(update_fields=["status", "updated_at"])


# The flow's reports: each takes the row's id and reads the row afresh, so that a stop request
# made meanwhile is never overwritten.


def labeling_job_start(*, job_id: int) -> LabelingJob:
    """Read the manifest into the job's items (once: a restarted run keeps them) and set the job
    InProgress. A manifest changed since the job was created into a bad one raises
    ``ValidationError`` naming the line, for the flow to fail the job with."""
    job = LabelingJob.objects.get(pk=job_id)
    if not job.items.exists():
        uri = job.spec["InputConfig"]["DataSource"]["S3DataSource"]["ManifestS3Uri"]
        lines, _ = specs.read_manifest(
            uri, task_type=job.task_type, store=bucket_store(user=job.owner)
        )
        items = [
            LabelingItem(
                job=job,
                index=line.index,
                line=line.line,
                source=line.source,
                source_ref=line.source_ref,
            )
            for line in lines
        ]
        with transaction.atomic():
            LabelingItem.objects.bulk_create(items, batch_size=1000)
    with transaction.atomic():
        job = LabelingJob.objects.select_for_update().get(pk=job_id)
        if job.status == "Initializing":
            job.status = "InProgress"
        job.started_at = job.started_at or timezone.now()
        job.label_counters = labeling_job_counters(job)
        job.save(update_fields=["status", "started_at", "label_counters", "updated_at"])
    return job


def labeling_items_send_to_humans(*, job_id: int, item_ids: list[int]) -> int:
    """Queue unlabeled items for the work team; returns how many were newly queued."""
    with transaction.atomic():
        items = LabelingItem.objects.filter(
            job_id=job_id, pk__in=item_ids, state=LabelingItem.UNLABELED, sent_to_humans=False
        )
        return items.update(sent_to_humans=True)


def labeling_items_machine_label(*, job_id: int, labels: list[tuple[int, int | str, float]]) -> int:
    """Machine-label items: ``(item_id, label, confidence)``, the label a class index or name.
    Items labeled meanwhile (by people) are left as they are; returns how many were labeled."""
    with transaction.atomic():
        job = LabelingJob.objects.select_for_update().get(pk=job_id)
        now, done = timezone.now(), 0
        for item_id, label, confidence in labels:
            index = label_index(job, label, field="labels")
            done += LabelingItem.objects.filter(
                job=job, pk=item_id, state=LabelingItem.UNLABELED
            ).update(
                state=LabelingItem.MACHINE,
                label=index,
                confidence=float(confidence),
                human_annotated=False,
                tie=False,
                labeled_at=now,
            )
        _recount(job)
    return done


def labeling_job_round_record(
    *,
    job_id: int,
    number: int,
    threshold: float | None,
    estimated_accuracy: float | None,
    machine_labeled: int,
    model_arn: str = "",
    training_job_name: str = "",
    transform_job_name: str = "",
) -> LabelingRound:
    """Record round ``number`` of active learning (again: replaced) and write its intermediate
    manifest, ``manifests/intermediate/<number>/output.manifest``, and what it decided,
    ``activelearning/round-<number>.json``."""
    with transaction.atomic():
        job = LabelingJob.objects.select_for_update().get(pk=job_id)
        round_, _ = LabelingRound.objects.update_or_create(
            job=job,
            number=number,
            defaults={
                "threshold": threshold,
                "estimated_accuracy": estimated_accuracy,
                "machine_labeled": machine_labeled,
                "human_labeled": job.items.filter(state=LabelingItem.HUMAN).count(),
                "model_arn": model_arn,
                "training_job_name": training_job_name,
                "transform_job_name": transform_job_name,
            },
        )
    manifests.write_intermediate(job, number)
    manifests.write_round(job, round_)
    return round_


def labeling_job_checkpoint(*, job_id: int, iteration: int) -> str:
    """Write the intermediate manifest of the labels so far; returns its URI."""
    return manifests.write_intermediate(LabelingJob.objects.get(pk=job_id), iteration)


def labeling_job_finish(
    *,
    job_id: int,
    status: Literal["Completed", "Stopped"],
    final_model_arn: str | None = None,
) -> None:
    """Write the output manifest and annotations, then end the job (Stopped if it was asked to
    stop). Items never labeled stay Unlabeled; every answer is kept."""
    job = LabelingJob.objects.get(pk=job_id)
    output: dict[str, str] = {}
    if job.items.exists():
        output["OutputDatasetS3Uri"] = manifests.write_output(job)
    if final_model_arn:
        output["FinalActiveLearningModelArn"] = final_model_arn
    with transaction.atomic():
        job = LabelingJob.objects.select_for_update().get(pk=job_id)
        job.status = "Stopped" if job.status == "Stopping" else status
        job.output = output
        job.label_counters = labeling_job_counters(job)
        job.ended_at = timezone.now()
        job.save(update_fields=["status", "output", "label_counters", "ended_at", "updated_at"])


def labeling_job_fail(*, job_id: int, reason: str) -> None:
    """End the job Failed with ``reason`` (a bad manifest line, the platform's own fault)."""
    with transaction.atomic():
        job = LabelingJob.objects.select_for_update().get(pk=job_id)
        job.status = "Failed"
        job.failure_reason = reason[:1024]
        job.label_counters = labeling_job_counters(job)
        job.ended_at = timezone.now()
        job.save(
            update_fields=["status", "failure_reason", "label_counters", "ended_at", "updated_at"]
        )


def label_index(job: LabelingJob, label: int | str, *, field: str = "label") -> int:
    """A label given as a class index or a class name, as the class index."""
    if isinstance(label, bool):
        raise ValidationError(field, "Member must be a label of the job", value=label)
    if isinstance(label, int) and 0 <= label < len(job.categories):
        return label
    if isinstance(label, str) and label in job.categories:
        return job.categories.index(label)
    rule = "Member must be one of the job's labels: " + ", ".join(job.categories)
    raise ValidationError(field, rule, value=label)


def _recount(job: LabelingJob) -> None:
    job.label_counters = labeling_job_counters(job)
    job.save(update_fields=["label_counters", "updated_at"])


def labeling_categories_write(*, user, spec: dict[str, Any], labels: list[str]) -> str:
    """Write label categories typed in the console as a Ground Truth category file,
    ``<S3OutputPath>/<job>/annotation-tool/data.json``, and return its URI for the request's
    ``LabelCategoryConfigS3Uri``. The request's shape and output bucket are checked first, so
    nothing is written under a name or path the job could not have."""
    field = "LabelCategories"
    names = [label.strip() for label in labels if label.strip()]
    if not 2 <= len(names) <= specs.MAX_CATEGORIES:
        rule = f"Give between 2 and {specs.MAX_CATEGORIES} labels (you gave {len(names)})"
        raise ValidationError(field, rule)
    if len(set(names)) != len(names):
        duplicate = next(name for name in names if names.count(name) > 1)
        raise ValidationError(field, f"Labels must be unique ({duplicate!r} is given twice)")
    validate_request("CreateLabelingJob", spec)
    bucket_check_request(user=user, request=spec)
    output_path = spec["OutputConfig"]["S3OutputPath"]
    check_output_bucket("OutputConfig.S3OutputPath", output_path)
    uri = f"{output_path.rstrip('/')}/{spec['LabelingJobName']}/annotation-tool/data.json"
    body = {"document-version": "2018-11-28", "labels": [{"label": name} for name in names]}
    get_store().write_bytes(uri, json.dumps(body).encode())
    return uri
