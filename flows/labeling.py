"""The labeling flow: the job's items from its manifest, labeled by its work team, and the output
manifest in Ground Truth's layout.

``run_labeling_job(job_id)`` is what tests call; the ``labeling`` flow wraps it for Prefect. The
job runner (``flows.jobs``) gates, fails and reads the job. A job with
``LabelingJobAlgorithmsConfig`` is labeled by people and a model in rounds
(:func:`label_automatically`), the model trained and applied each round by the platform's own
training and transform jobs (:class:`flows.labeling_rounds.PlatformRounds`); any other by people
alone (:func:`label_by_humans`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from prefect import flow

from algorithms import active_learning
from console.core.errors import ValidationError
from console.labeling import selectors, services, specs
from flows.jobs import JobKind, StopPoll, run_job
from flows.labeling_rounds import PlatformRounds, Rounds
from infra.storage import StorageError

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
            stop=StopPoll(LABELING, job.pk, every=poll_seconds),
            poll_seconds=poll_seconds,
            run_training=run_training,
            run_transform=run_transform,
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
            machine = selectors.labeling_items(job_id=job_id, state="machine")
            model = rounds(
                number,
                [(pk, sources[pk], label) for pk, label in human],
                [(pk, sources[pk]) for pk in pool],
                [(pk, sources[pk]) for pk in machine.values_list("pk", flat=True)],
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
