"""The training flow: download the channels, train with the job's algorithm, upload the model.

``run_training_job(job_id)`` does the work and is what tests call; the ``training`` flow wraps it
for Prefect. The job runner (``flows.jobs``) gates, fails and reads the job; every transition
reaches the database through ``console.training.services``: the row is the source of truth, and
a stop request written there is seen within a second.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from prefect import flow

from algorithms import DataError, HyperparameterError, parse_hyperparameters, resolve_image
from algorithms.artifacts import pack_model
from algorithms.base import output_data_dir
from algorithms.distributed import supports_distributed, train_distributed
from algorithms.metrics import MetricExtractingReporter, parse_metric_definitions
from console.buckets.selectors import bucket_store
from console.training import selectors, services
from flows.jobs import JobKind, run_job
from flows.reporter import JobReporter
from flows.staging import channel_shards, download_channels, download_code, job_scratch
from infra.dask import dask_client
from infra.storage import StorageError
from infra.storage.inputs import InputError

if TYPE_CHECKING:
    from console.training.models import TrainingJob

TRAINING = JobKind(
    noun="Training job",
    get=selectors.training_job_by_id,
    stop_requested=selectors.training_job_stop_requested,
    end_stopped=partial(services.training_job_finish, final_metrics={}, stopped_by="Stopped"),
    fail=services.training_job_fail,
    client_errors=(DataError, HyperparameterError, InputError, StorageError),
    fault="AlgorithmError",
    record=services.training_job_record,
)
STOP_MESSAGE = "Stop requested: ending training and keeping the model saved so far"


@flow(name="training", log_prints=True)
def training(job_id: int) -> str:
    """Run one training job to its end; returns the job's final status."""
    return run_training_job(job_id)


def run_training_job(job_id: int) -> str:
    return run_job(TRAINING, job_id, work=_train, finish=_finish)


@dataclass(frozen=True)
class Trained:
    """What a training run ends with: its final metrics, and why it stopped early, if it did."""

    final_metrics: dict[str, float]
    stopped_by: str | None  # Stopped or MaxRuntimeExceeded


def _train(job: TrainingJob) -> Trained:
    max_runtime = job.spec["StoppingCondition"].get(
        "MaxRuntimeInSeconds", services.DEFAULT_MAX_RUNTIME_SECONDS
    )
    reporter = JobReporter(TRAINING, job.pk, max_runtime=max_runtime, stop_message=STOP_MESSAGE)
    with job_scratch(job.pk) as work, reporter:
        final_metrics = _run_phases(job, work, reporter)
    return Trained(final_metrics=final_metrics, stopped_by=reporter.stopped_by)


def _finish(job_id: int, trained: Trained) -> None:
    services.training_job_finish(
        job_id=job_id, final_metrics=trained.final_metrics, stopped_by=trained.stopped_by
    )


def _run_phases(job: TrainingJob, work: Path, reporter: JobReporter) -> dict[str, float]:
    """Downloading, Training, Uploading; returns the final metrics."""
    spec, store = job.spec, bucket_store(user=job.owner)
    specification = spec["AlgorithmSpecification"]
    image = specification.get("TrainingImage") or specification["AlgorithmName"]
    algorithm = resolve_image(image)
    instance_count = spec["ResourceConfig"].get("InstanceCount", 1)
    distributed = instance_count > 1 and supports_distributed(algorithm)

    services.training_job_enter_phase(
        job_id=job.pk, phase="Downloading", message="Downloading input data"
    )
    hyperparameters = dict(spec.get("HyperParameters", {}))
    hyperparameters.update(download_code(hyperparameters, work, store))
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
            algorithm, image, shards, parsed, model_dir, job_reporter, instance_count, store
        )
    else:
        result = algorithm(image=image).train(
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


def _train_distributed(algorithm, image, shards, parsed, model_dir, reporter, instances, store):
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
            image=image,
        )
