"""The training flow: download the channels, train with the job's algorithm, upload the model.

``run_training_job(job_id)`` does the work and is what tests call; the ``training`` flow wraps it
for Prefect. Every transition reaches the database through ``console.training.services`` (console
modules are imported after ``setup()``): the row is the source of truth, and a stop request
written there is seen within a second.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import flow

from algorithms import Channel, DataError, HyperparameterError, parse_hyperparameters, resolve_image
from algorithms.artifacts import pack_model
from algorithms.base import output_data_dir
from algorithms.distributed import supports_distributed, train_distributed
from algorithms.metrics import MetricExtractingReporter, parse_metric_definitions
from algorithms.script import SUBMIT_DIRECTORY
from algorithms.shards import ChannelShard
from flows.django_setup import setup
from infra.config import settings
from infra.dask import dask_client
from infra.storage import StorageError, get_store
from infra.storage.inputs import InputError, list_inputs

log = logging.getLogger(__name__)

FLUSH_SECONDS = 1.0
STOP_CHECK_SECONDS = 1.0
LOG_LINE_LIMIT = 8192  # characters kept of one log line


@flow(name="training", log_prints=True)
def training(job_id: int) -> str:
    """Run one training job to its end; returns the job's final status."""
    setup()
    return run_training_job(job_id)


def run_training_job(job_id: int) -> str:
    setup()
    from console.training import services
    from console.training.models import TrainingJob

    job = TrainingJob.objects.get(pk=job_id)
    if job.status != "InProgress":
        if job.status == "Stopping":  # stopped before it started: nothing to keep
            services.training_job_finish(job_id=job_id, final_metrics={}, stopped_by="Stopped")
        return TrainingJob.objects.get(pk=job_id).status
    reporter = JobReporter(
        job_id,
        max_runtime=job.spec["StoppingCondition"].get(
            "MaxRuntimeInSeconds", services.DEFAULT_MAX_RUNTIME_SECONDS
        ),
    )
    with _scratch(job_id) as work:
        try:
            final_metrics = _train(job, work, reporter)
        except Exception as exc:  # every failure becomes the job's FailureReason
            reason = failure_reason(exc)
            log.info("Training job %s failed: %s", job.name, reason)
            reporter.log(reason)
            reporter.flush()
            services.training_job_fail(job_id=job_id, reason=reason)
        else:
            reporter.flush()
            services.training_job_finish(
                job_id=job_id, final_metrics=final_metrics, stopped_by=reporter.stopped_by
            )
    return TrainingJob.objects.get(pk=job_id).status


def scratch_root() -> Path:
    """Where training jobs keep their scratch folders (one per job, named by its id): under
    DATA_DIR/work, on the object store's file system, so that input can be linked, not copied."""
    return settings().work_dir / "training"


@contextlib.contextmanager
def _scratch(job_id: int) -> Iterator[Path]:
    """The job's empty scratch folder (its input, the model being packed), removed when done."""
    work = scratch_root() / str(job_id)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def remove_abandoned_scratch() -> int:
    """Remove the scratch folders of training jobs that no longer run, and say how many: a flow
    run killed mid-way (the machine stopped, a kill -9) leaves its folder behind. Run at start-up,
    after the interrupted jobs were ended."""
    setup()
    from console.training.models import TrainingJob

    root = scratch_root()
    # The folders first, then the running jobs: a folder listed here belongs to a job that was
    # running when it was made, so a job absent from the second read has ended.
    folders = list(root.iterdir()) if root.is_dir() else []
    running = {
        str(pk)
        for pk in TrainingJob.objects.filter(status__in=TrainingJob.ACTIVE_STATUSES).values_list(
            "pk", flat=True
        )
    }
    abandoned = [folder for folder in folders if folder.name not in running]
    for folder in abandoned:
        shutil.rmtree(folder, ignore_errors=True)
    return len(abandoned)


def _train(job, work: Path, reporter: JobReporter) -> dict[str, float]:
    from console.training import services

    spec, store = job.spec, get_store()
    specification = spec["AlgorithmSpecification"]
    algorithm = resolve_image(specification.get("TrainingImage") or specification["AlgorithmName"])
    instance_count = spec["ResourceConfig"].get("InstanceCount", 1)
    distributed = instance_count > 1 and supports_distributed(algorithm)

    services.training_job_enter_phase(
        job_id=job.pk, phase="Downloading", message="Downloading input data"
    )
    hyperparameters = dict(spec.get("HyperParameters", {}))
    hyperparameters.update(_download_code(hyperparameters, work, store))
    parsed = parse_hyperparameters(algorithm, hyperparameters)
    if distributed:
        shards = channel_shards(spec.get("InputDataConfig", []), store, instances=instance_count)
    else:
        channels = download_channels(
            spec.get("InputDataConfig", []),
            work / "input",
            store,
            reporter,
            link=not algorithm.may_modify_input,
        )

    services.training_job_enter_phase(
        job_id=job.pk,
        phase="Training",
        message="Training image download completed. Training in progress.",
    )
    definitions = parse_metric_definitions(specification.get("MetricDefinitions"))
    job_reporter = MetricExtractingReporter(reporter, definitions) if definitions else reporter
    model_dir = work / "model"
    model_dir.mkdir()
    started = time.monotonic()
    if distributed:
        result = _train_distributed(
            algorithm, shards, parsed, model_dir, job_reporter, instance_count, store
        )
    else:
        result = algorithm().train(
            channels=channels, hyperparameters=parsed, model_dir=model_dir, reporter=job_reporter
        )
    reporter.log(f"Training finished in {time.monotonic() - started:.1f} s")
    reporter.flush()

    services.training_job_enter_phase(
        job_id=job.pk, phase="Uploading", message="Uploading generated training model"
    )
    tarball = pack_model(model_dir, work / "model.tar.gz")
    store.upload_file(str(tarball), job.model_artifacts)
    reporter.log(f"Model uploaded to {job.model_artifacts}")
    output_data = output_data_dir(model_dir)
    if output_data.is_dir() and any(output_data.iterdir()):
        output_uri = job.model_artifacts.removesuffix("model.tar.gz") + "output.tar.gz"
        store.upload_file(str(pack_model(output_data, work / "output.tar.gz")), output_uri)
        reporter.log(f"Output data uploaded to {output_uri}")
    # Final values: what the algorithm reported as final, else each metric's last value.
    return {**reporter.last_values, **result.final_metrics}


def download_channels(
    channels: list[dict[str, Any]], input_dir: Path, store, reporter, *, link: bool = False
) -> dict:
    """Copy each channel's objects to ``input_dir/data/<channel>/`` keeping their subpaths;
    ``link`` where the algorithm only reads them (see ``ObjectStore.download_file``)."""

    local = {}
    for channel in channels:
        source = channel["DataSource"]["S3DataSource"]
        directory = input_dir / "data" / channel["ChannelName"]
        directory.mkdir(parents=True)
        objects = list_inputs(store, data_type=source["S3DataType"], uri=source["S3Uri"])
        for item in objects:
            target = directory / item.relative_path
            target.parent.mkdir(parents=True, exist_ok=True)
            store.download_file(item.uri, str(target), link=link)
        total = sum(item.size for item in objects)
        reporter.log(
            f"Channel {channel['ChannelName']}: {len(objects)} objects, {total} bytes from "
            f"{source['S3Uri']}"
        )
        local[channel["ChannelName"]] = Channel(
            name=channel["ChannelName"],
            path=directory,
            content_type=channel.get("ContentType", "text/csv"),
        )
    return local


def channel_shards(channels: list[dict[str, Any]], store, *, instances: int) -> list[dict]:
    """Each instance's objects per channel: all of them (FullyReplicated) or every n-th object
    (ShardedByS3Key), as SageMaker hands them out."""

    shards: list[dict] = [{} for _ in range(instances)]
    for channel in channels:
        source = channel["DataSource"]["S3DataSource"]
        uris = [
            o.uri for o in list_inputs(store, data_type=source["S3DataType"], uri=source["S3Uri"])
        ]
        sharded = source.get("S3DataDistributionType") == "ShardedByS3Key"
        for index, shard in enumerate(shards):
            shard[channel["ChannelName"]] = ChannelShard(
                name=channel["ChannelName"],
                uris=tuple(uris[index::instances] if sharded else uris),
                content_type=channel.get("ContentType", "text/csv"),
            )
    return shards


def _train_distributed(algorithm, shards, parsed, model_dir, reporter, instances, store):

    with dask_client(n_workers=instances) as client:
        reporter.log(f"Training on {instances} Dask workers ({client.scheduler.address})")
        return train_distributed(
            algorithm,
            shards=shards,
            hyperparameters=parsed,
            model_dir=model_dir,
            reporter=reporter,
            client=client,
            store=store,
        )


def _download_code(hyperparameters: dict[str, str], work: Path, store) -> dict[str, str]:
    """Script mode: the ``sagemaker_submit_directory`` tarball, fetched to local disk."""

    raw = hyperparameters.get(SUBMIT_DIRECTORY)
    if raw is None:
        return {}
    uri = json.loads(raw) if raw.startswith('"') else raw
    if not uri.startswith("s3://"):
        return {}
    target = work / "code" / "sourcedir.tar.gz"
    target.parent.mkdir(parents=True)
    store.download_file(uri, str(target))
    return {SUBMIT_DIRECTORY: str(target)}


def failure_reason(exc: Exception) -> str:
    """SageMaker's prefixes: ``ClientError`` for the user's data or settings, ``AlgorithmError``
    for what failed while training."""

    if isinstance(exc, DataError | HyperparameterError | InputError | StorageError):
        return f"ClientError: {exc}"
    return (
        f"AlgorithmError: {type(exc).__name__}: {exc}" if str(exc) else f"AlgorithmError: {exc!r}"
    )


class JobReporter:
    """The algorithm's :class:`Reporter` for one job: writes its metrics and log lines at most
    once a second, and turns ``should_stop`` true on StopTrainingJob or once
    MaxRuntimeInSeconds has passed."""

    def __init__(self, job_id: int, *, max_runtime: float) -> None:
        self.job_id = job_id
        self.deadline = time.monotonic() + max_runtime
        self.stopped_by: str | None = None
        self.last_values: dict[str, float] = {}
        self._metrics: list[tuple[str, int | None, float, datetime]] = []
        self._lines: list[str] = []
        self._lock = threading.Lock()  # script mode logs from its reader thread
        self._next_flush = 0.0
        self._next_check = 0.0

    def metric(self, name: str, value: float, *, step: int | None = None) -> None:
        with self._lock:
            self._metrics.append((name, step, float(value), datetime.now(UTC)))
            self.last_values[name] = float(value)
        self._flush_due()

    def log(self, message: str) -> None:
        with self._lock:
            self._lines.extend(line[:LOG_LINE_LIMIT] for line in message.splitlines() or [""])
        self._flush_due()

    def should_stop(self) -> bool:
        if self.stopped_by is not None:
            return True
        now = time.monotonic()
        if now >= self.deadline:
            self.stopped_by = "MaxRuntimeExceeded"
            self.log("MaxRuntimeInSeconds exceeded: stopping the training job")
        elif now >= self._next_check:
            self._next_check = now + STOP_CHECK_SECONDS
            from console.training.models import TrainingJob

            if TrainingJob.objects.filter(pk=self.job_id, status="Stopping").exists():
                self.stopped_by = "Stopped"
                self.log("Stop requested: ending training and keeping the model saved so far")
        return self.stopped_by is not None

    def flush(self) -> None:
        from console.training.services import training_job_record

        with self._lock:
            metrics, lines = self._metrics, self._lines
            self._metrics, self._lines = [], []
            self._next_flush = time.monotonic() + FLUSH_SECONDS
        if metrics or lines:
            training_job_record(job_id=self.job_id, metrics=metrics, log_lines=lines)

    def _flush_due(self) -> None:
        if time.monotonic() >= self._next_flush:
            self.flush()
