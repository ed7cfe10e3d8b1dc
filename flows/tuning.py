"""The tuning flow: ask the tuner, run its suggestions as training jobs, tell it their results.

``run_tuning_job(job_id)`` does the work and is what tests call; the ``tuning`` flow wraps it for
Prefect. The job runner (``flows.jobs``) gates, fails and reads the job. Each trial is a real
training job (``training_job_create(tuning_job=...)``) running its own training flow; this flow
polls the rows about once a second and:

- launches trials while fewer than ``MaxParallelTrainingJobs`` run, up to
  ``MaxNumberOfTrainingJobs`` (Hyperband: as its schedule allows), within ``MaxRuntimeInSeconds``;
- reads each ended trial's objective from its final metrics and tells the tuner (a trial that
  failed or never reported the objective is ``observe_failed``);
- with ``TrainingJobEarlyStoppingType=Auto``, stops a running trial whose per-epoch objective is
  worse than the median of earlier trials' running averages at the same epoch;
- ends the job early when a ``TuningJobCompletionCriteria`` holds; on a stop request (or once
  ``MaxRuntimeInSeconds`` has passed) stops every running trial and waits for them to end.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from django.utils import timezone
from prefect import flow

from algorithms.tuning import Hyperband, TuningError
from algorithms.tuning.completion import jobs_not_improving
from console.core.errors import ServiceError
from console.training.models import TrainingJob
from console.training.selectors import training_job_by_ids, training_job_first_failure_reason
from console.tuning import services
from console.tuning.analysis import tuning_job_trials_to_stop_early
from console.tuning.plan import TuningPlan
from console.tuning.selectors import (
    tuning_job_by_id,
    tuning_job_parents,
    tuning_job_stop_requested,
    tuning_job_trial_objective,
    tuning_job_trials,
)
from flows.jobs import JobKind, StopPoll, run_job

if TYPE_CHECKING:
    from console.tuning.models import HyperParameterTuningJob

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
STOP_WAIT_SECONDS = 300.0  # how long a stopped job waits for its trials' flows to end them


class TrialNotCreated(Exception):
    """The platform refused to create a trial (a limit, a check of its training job)."""


TUNING = JobKind(
    noun="Tuning job",
    get=tuning_job_by_id,
    stop_requested=tuning_job_stop_requested,
    end_stopped=partial(services.tuning_job_finish, status="Stopped"),
    fail=services.tuning_job_fail,
    client_errors=(TrialNotCreated,),
    fault="InternalError",
)


@flow(name="tuning", log_prints=True)
def tuning(job_id: int) -> str:
    """Run one tuning job to its end; returns the job's final status."""
    return run_tuning_job(job_id)


def run_tuning_job(
    job_id: int,
    *,
    poll_seconds: float = POLL_SECONDS,
    run_trial: Callable[[int], object] | None = None,
) -> str:
    """Run the job to its end. Trials run in their own training flow runs, unless ``run_trial``
    is given: then it is called with each new trial's id and runs it in this process."""
    work = partial(_tune, poll_seconds=poll_seconds, run_trial=run_trial)
    return run_job(TUNING, job_id, work=work, finish=_finish)


@dataclass(frozen=True)
class Ending:
    """How a tuning run ended, once its trials have: Completed, Stopped or Failed, and why."""

    status: str
    completion_reason: str = ""
    failure_reason: str = ""


def _tune(
    job: HyperParameterTuningJob,
    *,
    poll_seconds: float,
    run_trial: Callable[[int], object] | None,
) -> Ending:
    services.tuning_job_start(job_id=job.pk)
    return TuningRun(job, poll_seconds=poll_seconds, run_trial=run_trial).run()


def _finish(job_id: int, ending: Ending) -> None:
    services.tuning_job_finish(
        job_id=job_id,
        status=ending.status,
        completion_reason=ending.completion_reason,
        failure_reason=ending.failure_reason,
    )


@dataclass
class Trial:
    id: int
    name: str
    index: int
    tuned: dict[str, str]
    hyperband_job: object | None = None
    status: str = "InProgress"
    value: float | None = None


class TuningRun:
    """The state of one running tuning job: its tuner, its trials and their results."""

    def __init__(
        self, job, *, poll_seconds: float, run_trial: Callable[[int], object] | None = None
    ) -> None:
        self.job = job
        self.poll_seconds = poll_seconds
        self.run_trial = run_trial
        # Read as often as the trials' rows: a stop request is seen at the next poll.
        self.stop_requested = StopPoll(TUNING, job.pk, every=poll_seconds)
        self.plan = TuningPlan.from_request(job.spec)
        self.tuner = self.plan.tuner()
        self.trials: list[Trial] = []
        self.values: list[float] = []  # objective values, in the order trials ended
        self.started = time.monotonic()
        self.exhausted = False  # the tuner has nothing new to suggest
        self._warm_start()
        self.hyperband = None
        if self.plan.hyperband is not None:
            self.hyperband = Hyperband(
                self.tuner.suggest,
                min_resource=self.plan.hyperband.min_resource,
                max_resource=self.plan.hyperband.max_resource,
                objective_type=self.plan.objective_type,
                resource_name=self.plan.hyperband.resource_name,
            )

    # -- the loop ------------------------------------------------------------------------------

    def run(self) -> Ending:
        while True:
            if self.stop_requested():
                return self._end(Ending("Stopped"))
            self._collect()
            reason = self._completion_reason()
            if reason is not None:
                return self._end(Ending("Completed", completion_reason=reason))
            if self._out_of_time():
                return self._end(Ending("Stopped"))
            if self.plan.early_stopping:
                self._early_stop()
            try:
                self._launch()
            except ServiceError as exc:
                self._stop_trials()
                raise TrialNotCreated(f"a trial could not be created: {exc}") from exc
            if not self._running() and self._nothing_to_launch():
                return self._end(self._final_ending())
            time.sleep(self.poll_seconds)

    def _running(self) -> list[Trial]:
        return [t for t in self.trials if t.status not in TrainingJob.TERMINAL_STATUSES]

    def _nothing_to_launch(self) -> bool:
        if len(self.trials) >= self.plan.max_jobs:
            return True
        if self.hyperband is not None:
            return self.hyperband.finished or self.hyperband.queued == 0
        return self.exhausted

    # -- trials --------------------------------------------------------------------------------

    def _launch(self) -> None:
        free = min(
            self.plan.max_parallel - len(self._running()), self.plan.max_jobs - len(self.trials)
        )
        if free <= 0:
            return
        if self.hyperband is not None:
            batch = [(job.hyperparameters, job) for job in self.hyperband.next_jobs(free)]
        else:
            suggestions = self.tuner.suggest(free)
            self.exhausted = len(suggestions) < free
            batch = [(hyperparameters, None) for hyperparameters in suggestions]
        for tuned, hyperband_job in batch:
            index = len(self.trials) + 1
            row = services.tuning_job_launch_trial(
                job_id=self.job.pk, index=index, hyperparameters=tuned
            )
            self.trials.append(Trial(row.pk, row.name, index, tuned, hyperband_job))
            log.info("Tuning job %s launched %s with %s", self.job.name, row.name, tuned)
            if self.run_trial is not None:
                self.run_trial(row.pk)

    def _collect(self) -> None:
        """Read the running trials' rows; tell the tuner (or Hyperband) about those that ended."""
        running = {t.id: t for t in self._running()}
        if not running:
            return
        for row in training_job_by_ids(job_ids=list(running)):
            trial = running[row.pk]
            trial.status = row.status
            if row.status not in TrainingJob.TERMINAL_STATUSES:
                continue
            trial.value = tuning_job_trial_objective(self.job, row)
            tunable = {n: trial.tuned[n] for n in self.plan.tunable_names}
            if self.hyperband is not None:
                self.hyperband.report(trial.hyperband_job, trial.value)
            elif trial.value is None:
                self.tuner.observe_failed(tunable)
            else:
                self.tuner.observe(tunable, trial.value)
            if trial.value is not None:
                self.values.append(trial.value)
            self._report_progress()

    def _early_stop(self) -> None:
        """The median rule over the trials' per-epoch objective values."""
        for row in tuning_job_trials_to_stop_early(self.job):
            if services.tuning_job_stop_trial(job_id=self.job.pk, trial_name=row.name):
                log.info("Early stopping %s: worse than the median at its epoch", row.name)

    # -- ending --------------------------------------------------------------------------------

    def _completion_reason(self) -> str | None:
        return self.plan.criteria.reason_to_stop(
            self.values,
            objective_type=self.plan.objective_type,
            max_log_expected_improvements=self.tuner.max_log_expected_improvements,
        )

    def _out_of_time(self) -> bool:
        limit = self.plan.max_runtime_seconds
        return limit is not None and time.monotonic() - self.started >= limit

    def _end(self, ending: Ending) -> Ending:
        """Stop what still runs and wait for the trials to end; the runner records the end."""
        self._stop_trials()
        if ending.completion_reason == "ConvergenceDetected":
            self._report_progress(convergence_detected_at=timezone.now())
        log.info("Tuning job %s ends %s %s", self.job.name, ending.status, ending.completion_reason)
        return ending

    def _stop_trials(self) -> None:
        for trial in self._running():
            services.tuning_job_stop_trial(job_id=self.job.pk, trial_name=trial.name)
        deadline = time.monotonic() + STOP_WAIT_SECONDS
        while self._running() and time.monotonic() < deadline:
            time.sleep(self.poll_seconds)
            self._collect()

    def _final_ending(self) -> Ending:
        """Completed once a trial reported the objective; else Failed, with the first trial's
        reason."""
        if self.values:
            return Ending("Completed")
        first = training_job_first_failure_reason(job_ids=[t.id for t in self.trials])
        detail = f" The first failure: {first}" if first else ""
        reason = (
            f"No training job reported the objective metric {self.plan.metric_name}; "
            f"all {len(self.trials)} failed.{detail}"
        )
        return Ending("Failed", failure_reason=reason[:1024])

    def _report_progress(self, *, convergence_detected_at=None) -> None:
        scored = [t for t in self.trials if t.value is not None]
        if not scored:
            return
        pick = max if self.plan.objective_type == "Maximize" else min
        best = pick(scored, key=lambda t: t.value)
        services.tuning_job_record_progress(
            job_id=self.job.pk,
            best_training_job_name=best.name,
            jobs_not_improving=jobs_not_improving(
                self.values, objective_type=self.plan.objective_type
            ),
            convergence_detected_at=convergence_detected_at,
        )

    # -- warm start ----------------------------------------------------------------------------

    def _warm_start(self) -> None:
        """Tell the tuner what the parents' trials found (those inside this job's ranges)."""
        names = self.plan.tunable_names
        for parent in tuning_job_parents(self.job):
            for row in tuning_job_trials(parent):
                value = tuning_job_trial_objective(parent, row)
                hyperparameters = row.spec.get("HyperParameters", {})
                if value is None or not all(n in hyperparameters for n in names):
                    continue
                try:
                    self.tuner.observe({n: hyperparameters[n] for n in names}, value)
                except (TuningError, KeyError):
                    continue  # outside this job's ranges, or seen already
