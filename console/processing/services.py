"""Every write to a processing job: create and stop (adapters, the pipeline engine), and the
flow's reports."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

from django.db import transaction
from django.utils import timezone

from algorithms.script_images import UnknownImage, script_environment
from console.buckets.selectors import bucket_check_request
from console.core.errors import AlreadyExists, InvalidState, ValidationError
from console.core.names import account_id_for, arn
from console.core.services import job_start_flow, owned_resource_create
from console.core.shapes import validate_request
from console.core.uris import check_output_bucket
from console.processing.models import ProcessingJob, ProcessingLog
from console.processing.selectors import processing_job_get
from infra.storage import BucketNotFound, InvalidURI, get_store
from infra.storage.inputs import InputError, list_inputs

DEPLOYMENT = "processing/sagebrush"
PROCESSING_ROOT = "/opt/ml/processing"
DEFAULT_MAX_RUNTIME_SECONDS = 86400
DUPLICATE_MESSAGE = (
    "Processing job names must be unique within an AWS account and region, and a processing job "
    "with this name already exists ({arn})"
)


def processing_job_create(
    *, user, spec: dict[str, Any], training_job_arn: str = ""
) -> ProcessingJob:
    """Validate a CreateProcessingJob request, save the job InProgress and start its flow run.

    ``training_job_arn`` names the training job that started it, where one did.
    """
    bucket_check_request(user=user, request=spec)  # before any check lists its objects
    processing_job_validate(spec=spec)
    name = spec["ProcessingJobName"]
    job_arn = arn("processing-job", name, account_id=account_id_for(user.pk))
    duplicate = AlreadyExists(
        "ProcessingJob", name, arn=job_arn, message=DUPLICATE_MESSAGE.format(arn=job_arn)
    )
    with transaction.atomic():
        job = owned_resource_create(
            ProcessingJob,
            owner=user,
            tags=spec.get("Tags"),
            name=name,
            duplicate=duplicate,
            status="InProgress",
            spec=spec,
            training_job_arn=training_job_arn,
        )
        job_start_flow(job, deployment=DEPLOYMENT)
    return job


def processing_job_validate(*, spec: dict[str, Any]) -> None:
    """Every check of a CreateProcessingJob request: its shape, the image, each input (on its own
    path under /opt/ml/processing, matching objects) and each output (its own name and path, an
    existing bucket)."""
    validate_request("CreateProcessingJob", spec)
    image = spec["AppSpecification"]["ImageUri"]
    try:
        script_environment(image)
    except UnknownImage as exc:
        raise ValidationError("AppSpecification.ImageUri", str(exc), value=image) from None
    if not spec["AppSpecification"].get("ContainerEntrypoint"):
        raise ValidationError(
            "AppSpecification.ContainerEntrypoint",
            "Member must not be null: the platform's framework environments have no entrypoint "
            "of their own (the SDK's processors always send one)",
        )
    paths: dict[str, str] = {}  # local path → the field that claimed it
    _check_inputs(spec.get("ProcessingInputs", []), paths)
    _check_outputs(spec.get("ProcessingOutputConfig", {}).get("Outputs", []), paths)


def processing_job_stop(*, user, name: str) -> None:
    """StopProcessingJob: InProgress → Stopping; the flow stops the script, then Stopped."""
    with transaction.atomic():
        job = processing_job_get(user=user, name=name, for_update=True)
        if job.status == "Stopping":
            return
        if job.status != "InProgress":
            raise InvalidState(
                f"The request was rejected because the processing job is in status {job.status}."
            )
        job.status = "Stopping"
        job.save(update_fields=["status", "updated_at"])


# The flow's reports. Each takes the row's id and reads the row afresh, so a stop request made
# meanwhile is never overwritten.


def processing_job_begin(*, job_id: int) -> None:
    """The job's input is in place and its script starts: note the start time."""
    ProcessingJob.objects.filter(pk=job_id, started_at__isnull=True).update(
        started_at=timezone.now(), updated_at=timezone.now()
    )


def processing_job_record(
    *,
    job_id: int,
    metrics: Iterable[tuple[str, int | None, float, datetime]] = (),
    log_lines: Iterable[str] = (),
) -> None:
    """Append log lines reported while the job runs (processing jobs keep no metrics)."""
    text = "".join(f"{line}\n" for line in log_lines)
    if text:
        ProcessingLog.objects.create(job_id=job_id, text=text)


def processing_job_uploaded(*, job_id: int, uploaded: list[dict[str, Any]]) -> None:
    """What has been uploaded of each output so far: ``[{OutputName, S3Uri, Objects}]``."""
    ProcessingJob.objects.filter(pk=job_id).update(uploaded=uploaded, updated_at=timezone.now())


def processing_job_finish(
    *,
    job_id: int,
    status: Literal["Completed", "Failed", "Stopped"],
    failure_reason: str = "",
    exit_message: str = "",
) -> None:
    """The job's end. A job asked to stop ends Stopped, however its script ended."""
    with transaction.atomic():
        job = ProcessingJob.objects.select_for_update().get(pk=job_id)
        if job.status not in job.ACTIVE_STATUSES:
            return  # ended already
        job.status = "Stopped" if job.status == "Stopping" else status
        job.failure_reason = failure_reason[:1024] if job.status == "Failed" else ""
        job.exit_message = exit_message[:1024]
        job.ended_at = timezone.now()
        job.started_at = job.started_at or job.ended_at
        job.save(
            update_fields=[
                "status",
                "failure_reason",
                "exit_message",
                "started_at",
                "ended_at",
                "updated_at",
            ]
        )


def processing_job_fail(*, job_id: int, reason: str) -> None:
    """Failed with SageMaker's ``ClientError: ...`` / ``AlgorithmError: ...`` reason."""
    processing_job_finish(job_id=job_id, status="Failed", failure_reason=reason)


def processing_job_end_stopped(*, job_id: int) -> None:
    """Stopped before its run began."""
    processing_job_finish(job_id=job_id, status="Stopped")


# Validation of the request beyond its shape.


def _check_inputs(inputs: list[dict[str, Any]], paths: dict[str, str]) -> None:
    names = [item["InputName"] for item in inputs]
    for index, item in enumerate(inputs, start=1):
        field = f"ProcessingInputs.{index}"
        if item["InputName"] in names[: index - 1]:
            raise ValidationError(
                f"{field}.InputName", "Input names must be unique", value=item["InputName"]
            )
        if "DatasetDefinition" in item:
            raise ValidationError(
                f"{field}.DatasetDefinition",
                "Athena and Redshift dataset definitions are not supported: export the query's "
                "result to S3 and give it as an S3Input",
            )
        source = item.get("S3Input")
        if source is None:
            raise ValidationError(f"{field}.S3Input", "Member must not be null")
        if source.get("S3InputMode", "File") != "File":
            raise ValidationError(
                f"{field}.S3Input.S3InputMode",
                "Only File mode is supported: the objects are in place before the script starts",
                value=source["S3InputMode"],
            )
        _claim_path(f"{field}.S3Input.LocalPath", source.get("LocalPath"), paths)
        try:
            list_inputs(get_store(), data_type=source["S3DataType"], uri=source["S3Uri"])
        except (InputError, InvalidURI, BucketNotFound) as exc:
            raise ValidationError(
                f"{field}.S3Input.S3Uri", str(exc), value=source["S3Uri"]
            ) from None


def _check_outputs(outputs: list[dict[str, Any]], paths: dict[str, str]) -> None:
    names = [item["OutputName"] for item in outputs]
    for index, item in enumerate(outputs, start=1):
        field = f"ProcessingOutputConfig.Outputs.{index}"
        if item["OutputName"] in names[: index - 1]:
            raise ValidationError(
                f"{field}.OutputName", "Output names must be unique", value=item["OutputName"]
            )
        if "FeatureStoreOutput" in item:
            raise ValidationError(
                f"{field}.FeatureStoreOutput",
                "Feature Store outputs are not supported: give an S3Output",
            )
        destination = item.get("S3Output")
        if destination is None:
            raise ValidationError(f"{field}.S3Output", "Member must not be null")
        _claim_path(f"{field}.S3Output.LocalPath", destination.get("LocalPath"), paths)
        check_output_bucket(f"{field}.S3Output.S3Uri", destination["S3Uri"])


def _claim_path(field: str, local_path: str | None, paths: dict[str, str]) -> None:
    """A LocalPath must lie under /opt/ml/processing and be no other input's or output's. (One
    inside another's is allowed, as SageMaker allows it: the SDK puts its code input at
    /opt/ml/processing/input/code, often inside a data input at /opt/ml/processing/input.)"""
    if not local_path:
        raise ValidationError(field, "Member must not be null")
    normal = posixpath.normpath(local_path)
    if not normal.startswith(PROCESSING_ROOT + "/"):
        raise ValidationError(
            field, f"Member must be a path under {PROCESSING_ROOT}/", value=local_path
        )
    if normal in paths:
        raise ValidationError(
            field,
            f"Member must differ from every other input's and output's LocalPath "
            f"({paths[normal]} is {normal})",
            value=local_path,
        )
    paths[normal] = field
