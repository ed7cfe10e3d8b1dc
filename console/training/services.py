"""Every write to a training job: create and stop (adapters), and the flow's progress reports."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from algorithms import HyperparameterError, UnknownAlgorithm, parse_hyperparameters, resolve_image
from algorithms.base import Algorithm, UnsupportedContentType
from algorithms.codecs import CSV, LIBSVM, split_content_type, training_media_type
from algorithms.metrics import MetricDefinitionError, parse_metric_definitions
from algorithms.script_toolkit import SUBMIT_DIRECTORY
from console.buckets.selectors import bucket_check_request
from console.core.errors import AlreadyExists, InvalidState, ValidationError
from console.core.names import account_id_for, arn
from console.core.services import job_start_flow, owned_resource_create
from console.core.shapes import validate_request
from console.training.models import TrainingJob, TrainingLog, TrainingMetric
from console.training.selectors import training_job_get
from infra.storage import BucketNotFound, InvalidURI, get_store, parse_uri
from infra.storage.inputs import AUGMENTED_MANIFEST, InputError, list_inputs

DEPLOYMENT = "training/sagebrush"
DEFAULT_MAX_RUNTIME_SECONDS = 86400
DUPLICATE_MESSAGE = (
    "Training job names must be unique within an AWS account and region, and a training job "
    "with this name already exists ({arn})"
)
# What a classic (non-serverless) training job needs, beyond the model's required members.
CLASSIC_REQUIRED = ("AlgorithmSpecification", "ResourceConfig", "StoppingCondition")


def training_job_create(
    *, user, spec: dict[str, Any], tuning_job=None, labeling_job=None
) -> TrainingJob:
    """Validate a CreateTrainingJob request, save the job InProgress and start its flow run.
    A tuning job's trial, or a labeling job's round of automated labeling, names its creator."""
    bucket_check_request(user=user, request=spec)  # before any check lists its objects
    training_job_validate(spec=spec)
    name = spec["TrainingJobName"]
    job_arn = arn("training-job", name, account_id=account_id_for(user.pk))
    duplicate = AlreadyExists(
        "TrainingJob", name, arn=job_arn, message=DUPLICATE_MESSAGE.format(arn=job_arn)
    )
    now = timezone.now()
    with transaction.atomic():
        job = owned_resource_create(
            TrainingJob,
            owner=user,
            tags=spec.get("Tags"),
            name=name,
            duplicate=duplicate,
            status="InProgress",
            secondary_status="Starting",
            secondary_status_transitions=[
                _transition("Starting", now, "Preparing the instances for training")
            ],
            spec=spec,
            tuning_job_arn=tuning_job.arn if tuning_job is not None else "",
            labeling_job_arn=labeling_job.arn if labeling_job is not None else "",
            model_artifacts=model_artifacts_uri(spec, name),
        )
        job_start_flow(job, deployment=DEPLOYMENT)
    return job


def training_job_validate(*, spec: dict[str, Any], hyperparameters: bool = True) -> None:
    """Every check of a CreateTrainingJob request but the name's: its shape, the image, the
    hyperparameters (unless ``hyperparameters=False``: a tuning job checks its trials' values
    itself), metric definitions, channels matching objects and the output path."""
    validate_request("CreateTrainingJob", spec)
    for field in CLASSIC_REQUIRED:
        if field not in spec:
            raise ValidationError(field, "Member must not be null")
    algorithm = _algorithm(spec["AlgorithmSpecification"])
    if hyperparameters:
        _check_hyperparameters(algorithm, spec.get("HyperParameters", {}))
    _check_metric_definitions(spec["AlgorithmSpecification"].get("MetricDefinitions"))
    _check_channels(algorithm, spec.get("InputDataConfig", []))
    _check_output_path(spec["OutputDataConfig"]["S3OutputPath"])


def training_job_stop(*, user, name: str) -> None:
    """StopTrainingJob: InProgress → Stopping; the flow ends the run and keeps its model."""
    with transaction.atomic():
        job = training_job_get(user=user, name=name, for_update=True)
        if job.status != "InProgress":
            raise InvalidState(
                f"The request was rejected because the training job is in status {job.status}."
            )
        job.status = "Stopping"
        _enter(job, "Stopping", "Stopping the training job")
        job.save(update_fields=[*_STATUS_FIELDS, "status"])


def model_artifacts_uri(spec: dict[str, Any], name: str) -> str:
    """``<S3OutputPath>/<job>/output/model.tar.gz``."""
    return f"{spec['OutputDataConfig']['S3OutputPath'].rstrip('/')}/{name}/output/model.tar.gz"


# The flow's reports. Each takes the row's id: the flow holds no row between calls, so a stop
# request made meanwhile is never overwritten.

_STATUS_FIELDS = ["secondary_status", "secondary_status_transitions", "updated_at"]


def training_job_enter_phase(*, job_id: int, phase: str, message: str) -> None:
    """Record a secondary-status transition (Downloading, Training, Uploading) of a running job."""
    with transaction.atomic():
        job = TrainingJob.objects.select_for_update().get(pk=job_id)
        if job.status != "InProgress":
            return  # Stopping: the stop's own transition stays the latest
        if job.started_at is None:
            job.started_at = timezone.now()
        _enter(job, phase, message)
        job.save(update_fields=[*_STATUS_FIELDS, "started_at"])


def training_job_record(
    *,
    job_id: int,
    metrics: Iterable[tuple[str, int | None, float, datetime]] = (),
    log_lines: Iterable[str] = (),
) -> None:
    """Append metric values and log lines reported while the job runs."""
    rows = [
        TrainingMetric(job_id=job_id, name=name, step=step, value=value, timestamp=at)
        for name, step, value, at in metrics
    ]
    text = "".join(f"{line}\n" for line in log_lines)
    with transaction.atomic():
        TrainingMetric.objects.bulk_create(rows)
        if text:
            TrainingLog.objects.create(job_id=job_id, text=text)


def training_job_finish(
    *, job_id: int, final_metrics: dict[str, float], stopped_by: str | None = None
) -> None:
    """The model is uploaded: Completed, or Stopped (``stopped_by`` Stopped/MaxRuntimeExceeded)."""
    with transaction.atomic():
        job = TrainingJob.objects.select_for_update().get(pk=job_id)
        if job.status == "Stopping" and stopped_by is None:
            stopped_by = "Stopped"  # the algorithm finished before it saw the request
        if stopped_by:
            job.status = "Stopped"
            message = (
                "Training job stopped: MaxRuntimeInSeconds was exceeded"
                if stopped_by == "MaxRuntimeExceeded"
                else "Training job stopped on request; the model saved so far was uploaded"
            )
            _enter(job, stopped_by, message)
        else:
            job.status = "Completed"
            _enter(job, "Completed", "Training job completed")
        job.final_metrics = final_metrics
        job.ended_at = timezone.now()
        job.save(update_fields=[*_STATUS_FIELDS, "status", "final_metrics", "ended_at"])


def training_job_fail(*, job_id: int, reason: str) -> None:
    """Failed with SageMaker's ``ClientError: ...`` / ``AlgorithmError: ...`` reason."""
    _end(job_id, status="Failed", reason=reason)


def training_job_end_without_flow(*, job: TrainingJob, status: str, reason: str) -> None:
    """``Failed`` or ``Stopped`` without the flow run (it could not start, or the platform stopped
    under it): nothing was published, and the secondary status says why."""
    _end(job.pk, status=status, reason=reason)


def _end(job_id: int, *, status: str, reason: str) -> None:
    with transaction.atomic():
        job = TrainingJob.objects.select_for_update().get(pk=job_id)
        if job.status not in job.ACTIVE_STATUSES:
            return  # ended already
        job.status = status
        if status == "Failed":
            job.failure_reason = reason[:1024]
        job.model_artifacts = ""  # nothing was published
        _enter(job, status, reason[:1024])
        job.ended_at = timezone.now()
        job.save(
            update_fields=[
                *_STATUS_FIELDS,
                "status",
                "failure_reason",
                "model_artifacts",
                "ended_at",
            ]
        )


def _enter(job: TrainingJob, status: str, message: str) -> None:
    now = timezone.now()
    transitions = list(job.secondary_status_transitions)
    if transitions and "EndTime" not in transitions[-1]:
        transitions[-1] = {**transitions[-1], "EndTime": now.isoformat()}
    transitions.append(_transition(status, now, message))
    job.secondary_status = status
    job.secondary_status_transitions = transitions


def _transition(status: str, at: datetime, message: str) -> dict[str, str]:
    return {"Status": status, "StartTime": at.isoformat(), "StatusMessage": message}


# Validation of the request beyond its shape.


def _algorithm(specification: dict[str, Any]) -> type[Algorithm]:
    image, algorithm_name = specification.get("TrainingImage"), specification.get("AlgorithmName")
    if bool(image) == bool(algorithm_name):
        raise ValidationError(
            "AlgorithmSpecification.TrainingImage",
            "Specify exactly one of TrainingImage or AlgorithmName",
        )
    field = "TrainingImage" if image else "AlgorithmName"
    try:
        return resolve_image(image or algorithm_name)
    except UnknownAlgorithm as exc:
        raise ValidationError(
            f"AlgorithmSpecification.{field}", str(exc), value=image or algorithm_name
        ) from None


def _check_hyperparameters(algorithm: type[Algorithm], values: dict[str, str]) -> None:
    try:
        parse_hyperparameters(algorithm, values)
    except HyperparameterError as exc:
        raise ValidationError(f"HyperParameters.{exc.name}", exc.rule) from None
    submit = values.get(SUBMIT_DIRECTORY, "").strip('"')
    if submit.startswith("s3://") and not _exists(submit):
        raise ValidationError(
            f"HyperParameters.{SUBMIT_DIRECTORY}",
            "Member must name an existing object",
            value=submit,
        )


def _check_metric_definitions(definitions: list[dict[str, str]] | None) -> None:
    try:
        parse_metric_definitions(definitions)
    except MetricDefinitionError as exc:
        raise ValidationError("AlgorithmSpecification.MetricDefinitions", str(exc)) from None


def _check_channels(algorithm: type[Algorithm], channels: list[dict[str, Any]]) -> None:
    names = [channel["ChannelName"] for channel in channels]
    if algorithm.training_content_types and "train" not in names:
        raise ValidationError("InputDataConfig", f"{algorithm.name} needs a channel named 'train'")
    for index, channel in enumerate(channels, start=1):
        field = f"InputDataConfig.{index}"
        if names.count(channel["ChannelName"]) > 1:
            raise ValidationError(f"{field}.ChannelName", "Channel names must be unique")
        source = channel["DataSource"].get("S3DataSource")
        if source is None:
            raise ValidationError(f"{field}.DataSource", "Only S3DataSource is supported")
        given = channel.get("ContentType", CSV)
        content_type = split_content_type(given)[0]
        if allowed := algorithm.training_content_types:
            try:  # as the algorithm reads it: "csv" is text/csv
                content_type = training_media_type(given, (*allowed, LIBSVM))
            except UnsupportedContentType:
                raise ValidationError(
                    f"{field}.ContentType",
                    f"{algorithm.name} reads {', '.join(allowed)}",
                    value=given,
                ) from None
        if source["S3DataType"] == AUGMENTED_MANIFEST:
            _check_augmented_manifest(field, source, content_type)
        try:
            list_inputs(get_store(), data_type=source["S3DataType"], uri=source["S3Uri"])
        except (InputError, InvalidURI, BucketNotFound) as exc:
            raise ValidationError(
                f"{field}.DataSource.S3DataSource.S3Uri", str(exc), value=source["S3Uri"]
            ) from None


def _check_augmented_manifest(field: str, source: dict[str, Any], content_type: str) -> None:
    """AttributeNames present (the request shape already holds them to 16 names of 1 to 256
    characters), each an attribute name, then what staging reads: the data attribute and at
    most a label attribute, as CSV rows."""
    names_field = f"{field}.DataSource.S3DataSource.AttributeNames"
    names = source.get("AttributeNames")
    if not names:
        raise ValidationError(
            names_field, f"Member is required when S3DataType is {AUGMENTED_MANIFEST}"
        )
    for index, name in enumerate(names, start=1):
        if not name.strip() or name.startswith("$"):
            raise ValidationError(
                f"{names_field}.{index}",
                "Member must be a JSON attribute name: not blank and not starting with '$'",
                value=name,
            )
    if len(set(names)) != len(names):
        raise ValidationError(names_field, "Attribute names must be distinct", value=names)
    if len(names) > 2:
        raise ValidationError(
            names_field,
            "Training reads at most two attributes: the data attribute (source or source-ref), "
            "then the label attribute",
            value=names,
        )
    if content_type != "text/csv":
        raise ValidationError(
            f"{field}.ContentType",
            f"An {AUGMENTED_MANIFEST} channel's data attribute holds a comma-separated feature "
            "row: use text/csv",
            value=content_type,
        )


def _check_output_path(path: str) -> None:
    try:
        parse_uri(path)
    except InvalidURI as exc:
        raise ValidationError("OutputDataConfig.S3OutputPath", str(exc), value=path) from None


def _exists(uri: str) -> bool:
    try:
        return get_store().exists(uri)
    except (InvalidURI, BucketNotFound):
        return False
