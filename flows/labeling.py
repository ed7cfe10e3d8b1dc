"""The labeling flow: the job's items from its manifest, labeled by its work team, and the output
manifest in Ground Truth's layout.

``run_labeling_job(job_id)`` is what tests call; the ``labeling`` flow wraps it for Prefect. The
job runner (``flows.jobs``) gates, fails and reads the job. A job with
``LabelingJobAlgorithmsConfig`` is labeled by people and a model in rounds
(:func:`label_automatically`), the model trained and applied each round by the platform's own
training and transform jobs (:class:`PlatformRounds`); any other by people alone
(:func:`label_by_humans`).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Protocol

import numpy as np
from prefect import flow

from algorithms import active_learning
from algorithms.builtin.auto_labeling import HELD_OUT_FILE
from console.core.errors import InvalidState, ValidationError
from console.labeling import selectors, services, specs
from console.labeling.manifests import job_prefix
from console.registry.services import model_create
from console.training.selectors import training_job_by_id
from console.training.services import training_job_create, training_job_stop
from console.transform.selectors import transform_job_by_id
from console.transform.services import transform_job_create, transform_job_stop
from flows.jobs import JobKind, StopPoll, run_job
from infra.storage import StorageError, get_store

if TYPE_CHECKING:
    from console.labeling.models import LabelingJob

LABELING = JobKind(
    noun="Labeling job",
    get=selectors.labeling_job_by_id,
    stop_requested=selectors.labeling_job_stop_requested,
    end_stopped=partial(services.labeling_job_finish, status="Stopped"),
    fail=services.labeling_job_fail,
    client_errors=(ValidationError, StorageError),
    fault="InternalServerError",
)
POLL_SECONDS = 2.0
# An intermediate manifest is written at most this often while people label.
CHECKPOINT_SECONDS = 60.0


@flow(name="labeling", log_prints=True)
def labeling(job_id: int) -> str:
    """Run one labeling job to its end; returns the job's final status."""
    return run_labeling_job(job_id)


def run_labeling_job(
    job_id: int,
    *,
    poll_seconds: float = POLL_SECONDS,
    run_training: Callable[[int], object] | None = None,
    run_transform: Callable[[int], object] | None = None,
) -> str:
    """Run the job to its end. Automated labeling's training and transform jobs run in their own
    flow runs, unless ``run_training`` and ``run_transform`` are given: then each is called with
    a new job's id and runs it in this process."""
    work = partial(
        _work, poll_seconds=poll_seconds, run_training=run_training, run_transform=run_transform
    )
    return run_job(LABELING, job_id, work=work, finish=_finish)


@dataclass(frozen=True)
class Ending:
    status: str  # Completed or Stopped
    final_model_arn: str | None = None


def _work(job: LabelingJob, *, poll_seconds: float, run_training, run_transform) -> Ending:
    services.labeling_job_start(job_id=job.pk)
    if "LabelingJobAlgorithmsConfig" in job.spec:
        rounds = PlatformRounds(
            job.pk,
            run_training=run_training,
            run_transform=run_transform,
            poll_seconds=poll_seconds,
        )
        status = label_automatically(job.pk, poll_seconds=poll_seconds, rounds=rounds)
        return Ending(status, rounds.last_model_arn)
    return Ending(label_by_humans(job.pk, poll_seconds=poll_seconds))


def _finish(job_id: int, ending: Ending) -> None:
    services.labeling_job_finish(
        job_id=job_id, status=ending.status, final_model_arn=ending.final_model_arn
    )


def label_by_humans(job_id: int, *, poll_seconds: float = POLL_SECONDS) -> str:
    """Send every unlabeled item to the work team, then wait until each is consolidated, a
    stopping condition holds, or the job is asked to stop. Returns the status to end with."""
    unlabeled = selectors.labeling_items(job_id=job_id, state="unlabeled")
    services.labeling_items_send_to_humans(
        job_id=job_id, item_ids=list(unlabeled.values_list("pk", flat=True))
    )
    return wait_for_humans(job_id, poll_seconds=poll_seconds)


def wait_for_humans(
    job_id: int, *, poll_seconds: float = POLL_SECONDS, until_answered: bool = False
) -> str:
    """Poll until no item waits, a stopping condition holds ("Completed"), or StopLabelingJob
    was called ("Stopped"), writing an intermediate manifest now and then. With
    ``until_answered``, also until every item sent to people is labeled ("Answered")."""
    stop = StopPoll(LABELING, job_id, every=poll_seconds)
    checkpoint_at, iteration, last_counters = time.monotonic(), 1, None
    while True:
        if stop():
            return "Stopped"
        job = selectors.labeling_job_by_id(job_id=job_id)
        if selectors.labeling_job_all_labeled(job) or selectors.labeling_job_stopping_condition(
            job
        ):
            return "Completed"
        if until_answered and not _waiting_for_people(job_id):
            return ANSWERED
        now = time.monotonic()
        if now - checkpoint_at >= CHECKPOINT_SECONDS and job.label_counters != last_counters:
            services.labeling_job_checkpoint(job_id=job_id, iteration=iteration)
            checkpoint_at, last_counters, iteration = now, job.label_counters, iteration + 1
        time.sleep(poll_seconds)


def _waiting_for_people(job_id: int) -> bool:
    return (
        selectors.labeling_items(job_id=job_id, state="unlabeled")
        .filter(sent_to_humans=True)
        .exists()
    )


ANSWERED = "Answered"


@dataclass(frozen=True)
class LoopSettings:
    strategy: str = active_learning.DEFAULT_QUERY_STRATEGY
    # The plain loop (benchmarks): a fixed threshold instead of one calibrated each round.
    fixed_threshold: float | None = None
    seed: int = 0


def loop_settings(job: LabelingJob) -> LoopSettings:
    """The job's settings: the query strategy its tag names (``specs.QUERY_STRATEGY_TAG``)."""
    return LoopSettings(strategy=specs.query_strategy_of(job.spec))


@dataclass(frozen=True)
class RoundModel:
    """What one round's model says: each pool item's probabilities, and the held-out
    probabilities of the human-labeled items (None: too few to hold any out) with their labels."""

    pool_probabilities: np.ndarray
    held_out: np.ndarray | None
    held_out_labels: np.ndarray
    model_arn: str = ""
    training_job_name: str = ""
    transform_job_name: str = ""


class Rounds(Protocol):
    """Trains a round's model on the human labels ``[(item id, source, label)]`` and applies it
    to the pool ``[(item id, source)]``; returns None when the job was asked to stop meanwhile."""

    def __call__(
        self, number: int, labeled: list[tuple[int, str, int]], pool: list[tuple[int, str]]
    ) -> RoundModel | None: ...


def label_automatically(
    job_id: int,
    *,
    rounds: Rounds,
    poll_seconds: float = POLL_SECONDS,
    settings: LoopSettings | None = None,
) -> str:
    """Automated labeling in rounds: a random batch goes to people; once they have answered, a
    model trained on every human label (by ``rounds``) machine-labels the items it is sure
    enough of (a threshold calibrated on held-out human labels for 95 % accuracy) and sends its
    least certain items to people; until every item is labeled, a stopping condition holds or
    the job is asked to stop. Each round is recorded. Returns the status to end with."""
    job = selectors.labeling_job_by_id(job_id=job_id)
    settings = settings or loop_settings(job)
    sources = dict(selectors.labeling_items(job_id=job_id).values_list("pk", "source"))
    max_tasks = job.spec["HumanTaskConfig"].get("MaxConcurrentTaskCount")
    batch = active_learning.batch_size(len(sources), max_tasks)
    pool = _unlabeled(job_id)
    first = active_learning.first_batch_size(len(pool), len(job.categories), batch)
    ask = [pool[p] for p in active_learning.random_batch(len(pool), first, seed=settings.seed).ask]
    number = 0
    while True:
        services.labeling_items_send_to_humans(job_id=job_id, item_ids=ask)
        status = wait_for_humans(job_id, poll_seconds=poll_seconds, until_answered=True)
        if status != ANSWERED:
            return status
        number += 1
        human = list(
            selectors.labeling_items_human_labeled(job_id=job_id).values_list("pk", "label")
        )
        pool = _unlabeled(job_id)
        model = None
        if len({label for _, label in human}) >= 2 and pool:
            model = rounds(
                number,
                [(pk, sources[pk], label) for pk, label in human],
                [(pk, sources[pk]) for pk in pool],
            )
            if model is None:
                return "Stopped"
        if model is None:  # nothing to learn from yet: ask about a random batch
            plan = active_learning.random_batch(len(pool), batch, seed=settings.seed + number)
        else:
            plan = active_learning.plan_round(
                model.pool_probabilities,
                model.held_out,
                model.held_out_labels,
                strategy=settings.strategy,
                batch=batch,
                fixed_threshold=settings.fixed_threshold,
                seed=settings.seed + number,
            )
        labeled = services.labeling_items_machine_label(
            job_id=job_id, labels=[(pool[p], label, conf) for p, label, conf in plan.machine]
        )
        services.labeling_job_round_record(
            job_id=job_id,
            number=number,
            threshold=plan.threshold,
            estimated_accuracy=plan.estimated_accuracy,
            machine_labeled=labeled,
            model_arn=model.model_arn if model is not None else "",
            training_job_name=model.training_job_name if model is not None else "",
            transform_job_name=model.transform_job_name if model is not None else "",
        )
        job = selectors.labeling_job_by_id(job_id=job_id)
        if selectors.labeling_job_all_labeled(job) or selectors.labeling_job_stopping_condition(
            job
        ):
            return "Completed"
        ask = [pool[p] for p in plan.ask]


def _unlabeled(job_id: int) -> list[int]:
    return list(
        selectors.labeling_items(job_id=job_id, state="unlabeled").values_list("pk", flat=True)
    )


class ChildJobFailed(Exception):
    """A training or transform job of automated labeling did not complete."""


class PlatformRounds:
    """Each round's model trained by a training job (the ``auto-labeling`` built-in) on the human
    labels, registered as a Model, and applied to the pool by a transform job; the jobs name the
    labeling job (``LabelingJobArn``). Data lies under the job's output prefix as Ground Truth
    lays it out: ``training/`` (each round's labels, and the models), ``inference/`` (each
    round's pool and its predictions) and ``activelearning/`` (each round's decisions)."""

    def __init__(
        self,
        job_id: int,
        *,
        run_training: Callable[[int], object] | None = None,
        run_transform: Callable[[int], object] | None = None,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.job = selectors.labeling_job_by_id(job_id=job_id)
        self.run_training = run_training
        self.run_transform = run_transform
        self.poll_seconds = poll_seconds
        self.stop = StopPoll(LABELING, job_id, every=poll_seconds)
        self.prefix = job_prefix(self.job)
        self.last_model_arn: str | None = None

    def __call__(
        self, number: int, labeled: list[tuple[int, str, int]], pool: list[tuple[int, str]]
    ) -> RoundModel | None:
        job, store, name = self.job, get_store(), child_name(self.job.name, number)
        train_uri = f"{self.prefix}/training/input/round-{number}/train.jsonl"
        store.write_bytes(
            train_uri,
            _jsonl({"id": pk, "source": source, "label": label} for pk, source, label in labeled),
        )
        pool_uri = f"{self.prefix}/inference/input/round-{number}/pool.jsonl"
        store.write_bytes(pool_uri, _jsonl({"id": pk, "source": source} for pk, source in pool))
        training = training_job_create(
            user=job.owner, spec=self._training_spec(name, train_uri, pool_uri), labeling_job=job
        )
        if self.run_training is not None:
            self.run_training(training.pk)
        training = self._wait(training_job_by_id, training.pk, training_job_stop)
        if training is None:
            return None
        model = model_create(
            user=job.owner,
            spec={
                "ModelName": name,
                "PrimaryContainer": {
                    "Image": ALGORITHM,
                    "ModelDataUrl": training.model_artifacts,
                },
                "ExecutionRoleArn": job.spec["RoleArn"],
            },
        )
        self.last_model_arn = model.arn
        output = f"{self.prefix}/inference/output/round-{number}"
        transform = transform_job_create(
            user=job.owner, spec=_transform_spec(name, pool_uri, output), labeling_job=job
        )
        if self.run_transform is not None:
            self.run_transform(transform.pk)
        if self._wait(transform_job_by_id, transform.pk, transform_job_stop) is None:
            return None
        held_out, held_out_labels = _held_out(training.model_artifacts, {pk for pk, *_ in labeled})
        return RoundModel(
            pool_probabilities=_predictions(
                f"{output}/pool.jsonl.out", len(pool), classes=len(job.categories)
            ),
            held_out=held_out,
            held_out_labels=held_out_labels,
            model_arn=model.arn,
            training_job_name=training.name,
            transform_job_name=transform.name,
        )

    def _training_spec(self, name: str, train_uri: str, pool_uri: str) -> dict:
        """The human labels as the ``train`` channel; the pool as ``unlabeled``, which the
        features are fitted on too."""
        job = self.job
        return {
            "TrainingJobName": name,
            "AlgorithmSpecification": {"TrainingImage": ALGORITHM, "TrainingInputMode": "File"},
            "RoleArn": job.spec["RoleArn"],
            "HyperParameters": {
                "num_classes": str(len(job.categories)),
                "task_type": job.task_type,
            },
            "InputDataConfig": [
                {
                    "ChannelName": channel,
                    "ContentType": "application/jsonlines",
                    "DataSource": {
                        "S3DataSource": {
                            "S3DataType": "S3Prefix",
                            "S3Uri": uri,
                            "S3DataDistributionType": "FullyReplicated",
                        }
                    },
                }
                for channel, uri in (("train", train_uri), ("unlabeled", pool_uri))
            ],
            "OutputDataConfig": {"S3OutputPath": f"{self.prefix}/training/output"},
            "ResourceConfig": {
                "InstanceType": INSTANCE_TYPE,
                "InstanceCount": 1,
                "VolumeSizeInGB": 1,
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": CHILD_MAX_SECONDS},
        }

    def _wait(self, get, job_id: int, stop):
        """The child job once it has ended (Completed), or None when the labeling job was asked
        to stop meanwhile (the child is asked to stop too). A child that failed or stopped by
        itself fails the labeling job, naming it."""
        while True:
            child = get(job_id=job_id)
            if child.status == "Completed":
                return child
            if child.status in ("Failed", "Stopped"):
                noun = type(child)._meta.verbose_name.capitalize()
                reason = f": {child.failure_reason}" if child.failure_reason else ""
                message = f"{noun} {child.name} ended {child.status}{reason}"
                if child.failure_reason.startswith("ClientError"):  # the items' fault
                    raise ValidationError("LabelingJobAlgorithmsConfig", message)
                raise ChildJobFailed(message)
            if self.stop():
                if child.status == "InProgress":
                    with contextlib.suppress(InvalidState):  # it ended meanwhile
                        stop(user=self.job.owner, name=child.name)
                return None
            time.sleep(self.poll_seconds)


ALGORITHM = "auto-labeling"
INSTANCE_TYPE = "ml.m5.large"
CHILD_MAX_SECONDS = 3600


def child_name(job_name: str, number: int) -> str:
    """The name of round ``number``'s training job, model and transform job: the labeling job's
    name and the round, within the 63 characters a name may have."""
    suffix = f"-round-{number}"
    if len(job_name) + len(suffix) <= 63:
        return job_name + suffix
    digest = hashlib.sha1(job_name.encode()).hexdigest()[:8]
    return f"{job_name[: 63 - len(suffix) - 9]}-{digest}{suffix}"


def _transform_spec(name: str, pool_uri: str, output: str) -> dict:
    return {
        "TransformJobName": name,
        "ModelName": name,
        "BatchStrategy": "MultiRecord",
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": pool_uri}},
            "ContentType": "application/jsonlines",
            "SplitType": "Line",
        },
        "TransformOutput": {
            "S3OutputPath": output,
            "Accept": "application/jsonlines",
            "AssembleWith": "Line",
        },
        "TransformResources": {"InstanceType": INSTANCE_TYPE, "InstanceCount": 1},
    }


def _jsonl(records) -> bytes:
    return "".join(json.dumps(record) + "\n" for record in records).encode()


def _predictions(uri: str, count: int, *, classes: int) -> np.ndarray:
    lines = get_store().read_bytes(uri).splitlines()
    if len(lines) != count:
        raise ChildJobFailed(f"{uri} holds {len(lines)} predictions for {count} items")
    out = np.array([json.loads(line)["probabilities"] for line in lines], dtype=float)
    return out.reshape(count, classes)


def _held_out(model_artifacts: str, labeled: set[int]) -> tuple[np.ndarray | None, np.ndarray]:
    """The held-out probabilities the training job wrote as output data, with their labels."""
    uri = model_artifacts.removesuffix("model.tar.gz") + "output.tar.gz"
    with tarfile.open(fileobj=io.BytesIO(get_store().read_bytes(uri)), mode="r:gz") as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith(HELD_OUT_FILE))
        records = [json.loads(line) for line in tar.extractfile(member).read().splitlines()]
    records = [r for r in records if r["id"] in labeled]
    if not records:
        return None, np.zeros(0, dtype=int)
    probs = np.array([r["probabilities"] for r in records], dtype=float)
    return probs, np.array([r["label"] for r in records], dtype=int)
