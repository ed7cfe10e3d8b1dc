"""Every write to a transform job: create and stop (adapters), and the flow's progress reports."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from django.db import transaction
from django.utils import timezone

from batch import spec as batch_spec
from console.buckets.selectors import bucket_check_request
from console.core.errors import AlreadyExists, InvalidState, ValidationError
from console.core.names import account_id_for, arn
from console.core.services import job_start_flow, owned_resource_create
from console.core.shapes import validate_request
from console.core.uris import check_output_bucket
from console.registry.selectors import model_containers, model_get
from console.transform.models import TransformJob, TransformLog
from console.transform.selectors import transform_job_get
from infra.storage import BucketNotFound, InvalidURI, get_store
from infra.storage.inputs import InputError, list_inputs

DEPLOYMENT = "transform/sagebrush"
DUPLICATE_MESSAGE = (
    "Transform job names must be unique within an AWS account and region, and a transform job "
    "with this name already exists ({arn})"
)
INPUT_URI = f"{batch_spec.S3_SOURCE}.S3Uri"


def transform_job_create(*, user, spec: dict[str, Any], labeling_job=None) -> TransformJob:
    """Validate a CreateTransformJob request, save the job InProgress and start its flow run.
    A labeling job's round of automated labeling names its creator.

    Everything knowable now is checked now: the request's shape and limits, the model, the
    JSONPath filters, that the input matches objects and that the output bucket exists.
    """
    validate_request("CreateTransformJob", spec)
    bucket_check_request(user=user, request=spec)
    try:
        parsed = batch_spec.TransformSpec.from_request(spec)
    except batch_spec.ValidationError as exc:
        raise ValidationError(exc.field, exc.rule) from None
    if "DataCaptureConfig" in spec:
        raise ValidationError(
            "DataCaptureConfig", "Data capture for batch transform is not supported yet"
        )
    model = model_get(user=user, name=spec["ModelName"])
    _check_input(parsed)
    check_output_bucket("TransformOutput.S3OutputPath", parsed.output_path)
    name = spec["TransformJobName"]
    job_arn = arn("transform-job", name, account_id=account_id_for(user.pk))
    duplicate = AlreadyExists(
        "TransformJob", name, arn=job_arn, message=DUPLICATE_MESSAGE.format(arn=job_arn)
    )
    with transaction.atomic():
        job = owned_resource_create(
            TransformJob,
            owner=user,
            tags=spec.get("Tags"),
            name=name,
            duplicate=duplicate,
            status="InProgress",
            spec=spec,
            model_name=model.name,
            containers=model_containers(model),
            labeling_job_arn=labeling_job.arn if labeling_job is not None else "",
        )
        job_start_flow(job, deployment=DEPLOYMENT)
    return job


def transform_job_stop(*, user, name: str) -> None:
    """StopTransformJob: InProgress → Stopping; the flow publishes nothing more, then Stopped."""
    with transaction.atomic():
        job = transform_job_get(user=user, name=name, for_update=True)
        if job.status == "Stopping":
            return
        if job.status != "InProgress":
            raise InvalidState(
                f"The request was rejected because the transform job is in status {job.status}."
            )
        job.status = "Stopping"
        job.save(update_fields=["status", "updated_at"])


# The flow's reports. Each takes the row's id and reads the row afresh, so a stop request made
# meanwhile is never overwritten.


def transform_job_begin(*, job_id: int, dashboard_url: str | None) -> None:
    """The job's Dask cluster is up: note the start time and link its dashboard."""
    with transaction.atomic():
        job = TransformJob.objects.select_for_update().get(pk=job_id)
        job.started_at = job.started_at or timezone.now()
        job.progress = {**job.progress, "dashboard_url": dashboard_url}
        job.save(update_fields=["started_at", "progress", "updated_at"])


def transform_job_report(*, job_id: int, progress: dict[str, Any]) -> None:
    """Replace the job's counters (records and bytes done, in total and per object)."""
    with transaction.atomic():
        job = TransformJob.objects.select_for_update().get(pk=job_id)
        if job.status not in job.ACTIVE_STATUSES:
            return  # a late report must not revive a finished job's dashboard link
        job.progress = {**progress, "dashboard_url": job.progress.get("dashboard_url")}
        job.save(update_fields=["progress", "updated_at"])


def transform_job_record(*, job_id: int, log_lines: Iterable[str]) -> None:
    """Append lines to the job's log."""
    text = "".join(f"{line}\n" for line in log_lines)
    if text:
        TransformLog.objects.create(job_id=job_id, text=text)


def transform_job_finish(
    *,
    job_id: int,
    status: Literal["Completed", "Failed", "Stopped"],
    failure_reason: str | None = None,
    progress: dict[str, Any] | None = None,
) -> None:
    """The job's end. A job asked to stop ends Stopped, whatever its last ranges did."""
    with transaction.atomic():
        job = TransformJob.objects.select_for_update().get(pk=job_id)
        job.status = "Stopped" if job.status == "Stopping" else status
        job.failure_reason = (failure_reason or "")[:1024] if job.status == "Failed" else ""
        final = dict(progress if progress is not None else job.progress)
        final.pop("dashboard_url", None)
        job.progress = final
        job.ended_at = timezone.now()
        job.save(update_fields=["status", "failure_reason", "progress", "ended_at", "updated_at"])


def transform_job_fail(*, job_id: int, reason: str) -> None:
    """Failed before the engine could say how each object went (its input vanished, say)."""
    transform_job_finish(job_id=job_id, status="Failed", failure_reason=reason)


def _check_input(spec: batch_spec.TransformSpec) -> None:
    try:
        list_inputs(get_store(), data_type=spec.s3_data_type, uri=spec.input_uri)
    except (InputError, InvalidURI, BucketNotFound) as exc:
        raise ValidationError(INPUT_URI, str(exc), value=spec.input_uri) from None
