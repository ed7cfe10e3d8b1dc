"""The pipeline flow: one flow run per execution, one Prefect task per step.

``run_pipeline_execution(job_id)`` does the work and is what tests call; the ``pipeline`` flow
wraps it for Prefect, submitting each step as a task (independent steps run at once, up to
``MaxParallelExecutionSteps``). The job runner (``flows.jobs``) gates, fails and reads the
execution. Here is the loop: which steps are ready, in a branch that was taken, and how the
execution ends; each step is run by ``flows.pipelines_steps``. A stop request stops the running
jobs and ends the execution Stopped once they have ended.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from concurrent import futures
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from django.db import connections
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from console.pipelines import services
from console.pipelines.expressions import Context, EvaluationError
from console.pipelines.selectors import (
    pipeline_execution_by_id,
    pipeline_execution_stop_requested,
)
from console.pipelines.services import pipeline_definition_check
from console.pipelines.steps import step_kinds
from flows.jobs import JobKind, StopPoll, run_job
from flows.pipelines_steps import Outcome, RunChild, StepRunner
from infra.storage import StorageError, get_store

if TYPE_CHECKING:
    from console.pipelines.models import PipelineExecution

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5

PIPELINE = JobKind(
    noun="Pipeline execution",
    get=pipeline_execution_by_id,
    stop_requested=pipeline_execution_stop_requested,
    end_stopped=partial(services.pipeline_execution_finish, status="Stopped"),
    fail=services.pipeline_execution_fail,
    client_errors=(),
    fault="InternalServerError",
)

Submit = Callable[[str, Callable[[], Outcome]], Future]


@dataclass(frozen=True)
class Ending:
    status: str
    failure_reason: str = ""


@task(cache_policy=NO_CACHE, log_prints=True)
def pipeline_step(step_name: str, work: Callable[[], Outcome]) -> Outcome:
    """One step of an execution, as its own task run (named after the step)."""
    try:
        return work()
    finally:
        connections.close_all()  # this thread's own connections


class _TaskRun:
    """A submitted step's Prefect future, asked as the loop asks a ``concurrent.futures``
    one: whether it is done (without a call to the API) and its outcome."""

    def __init__(self, future) -> None:
        self.future = future

    @property
    def wrapped_future(self) -> Future:
        return self.future.wrapped_future

    def done(self) -> bool:
        return self.future.wrapped_future.done()

    def result(self) -> Outcome:
        return self.future.result()


def prefect_submit(step_name: str, work: Callable[[], Outcome]) -> _TaskRun:
    return _TaskRun(pipeline_step.with_options(task_run_name=step_name).submit(step_name, work))


def inline_submit(step_name: str, work: Callable[[], Outcome]) -> Future:
    """Run the step now, in this thread (tests: the test database is one connection)."""
    done: Future = Future()
    done.set_result(work())
    return done


@flow(name="pipeline", log_prints=True)
def pipeline(job_id: int) -> str:
    """Run one pipeline execution to its end; returns its final status."""
    return run_pipeline_execution(job_id, submit=prefect_submit)


@flow(name="pipeline-schedule", log_prints=True)
def pipeline_schedule(schedule_id: int) -> str:
    """A schedule's run: start an execution for the time it was due, and run it here."""
    from prefect.context import FlowRunContext

    run = FlowRunContext.get().flow_run
    due = run.expected_start_time or run.start_time
    execution = services.pipeline_execution_start_scheduled(
        schedule_id=schedule_id, flow_run_id=run.id, scheduled_time=due
    )
    if execution is None:
        return "Skipped"
    return run_pipeline_execution(execution.pk, submit=prefect_submit)


def run_pipeline_execution(
    job_id: int,
    *,
    poll_seconds: float = POLL_SECONDS,
    submit: Submit = inline_submit,
    run_child: dict[str, RunChild] | None = None,
) -> str:
    """Run the execution to its end. Each step's job runs in its own flow run, unless
    ``run_child`` names the step type: then it is called with the new job's id and runs it in
    this process."""
    work = partial(_execute, poll_seconds=poll_seconds, submit=submit, run_child=run_child or {})
    return run_job(PIPELINE, job_id, work=work, finish=_finish)


def _execute(execution: PipelineExecution, **options) -> Ending:
    services.pipeline_execution_begin(job_id=execution.pk)
    return ExecutionRun(execution, **options).run()


def _finish(job_id: int, ending: Ending) -> None:
    services.pipeline_execution_finish(
        job_id=job_id, status=ending.status, failure_reason=ending.failure_reason
    )


class ExecutionRun:
    """The state of one running execution: which steps ended how, what they publish."""

    def __init__(
        self,
        execution: PipelineExecution,
        *,
        poll_seconds: float,
        submit: Submit,
        run_child: dict[str, RunChild],
    ) -> None:
        self.execution = execution
        self.pipeline = execution.pipeline
        self.poll_seconds = poll_seconds
        self.submit = submit
        self.definition = pipeline_definition_check(execution.definition)
        self.properties: dict[str, dict[str, Any]] = {}
        self.outcomes: dict[str, Outcome] = {}
        self.running: dict[str, Future] = {}
        self.stop_requested = StopPoll(PIPELINE, execution.pk, every=poll_seconds)
        self.stopping = threading.Event()
        parallelism = execution.spec.get("ParallelismConfiguration") or self.pipeline.parallelism
        self.max_parallel = (parallelism or {}).get("MaxParallelExecutionSteps", 50)
        self.context = Context(
            parameters=execution.parameters,
            execution={
                "PipelineExecutionId": execution.name,
                "PipelineExecutionArn": execution.arn,
                "PipelineName": self.pipeline.name,
                "PipelineArn": self.pipeline.arn,
                "StartDateTime": execution.created_at.isoformat(),
            },
            properties=self._properties_of,
            read_json=_read_json,
            definition=self.definition,
        )
        self.steps = StepRunner(
            execution,
            definition=self.definition,
            kinds=step_kinds(),
            context=self.context,
            properties=self.properties,
            stopping=self.stopping,
            poll_seconds=poll_seconds,
            run_child=run_child,
        )

    # -- the loop ------------------------------------------------------------------------------

    def run(self) -> Ending:
        while True:
            if not self.stopping.is_set() and self.stop_requested():
                self.stopping.set()
            self._collect()
            ready = [] if self.stopping.is_set() or self._failed() else self._ready()
            free = self.max_parallel - len(self.running)
            for name in ready[: max(free, 0)]:
                self.running[name] = self.submit(name, partial(self.steps.run, name))
            if not self.running and not self._ready_now(ready):
                break
            if self.running:  # until a step ends (or the next look at a stop request)
                futures.wait(
                    [_concurrent(f) for f in self.running.values()],
                    timeout=self.poll_seconds,
                    return_when=futures.FIRST_COMPLETED,
                )
        return self._ending()

    def _ready_now(self, ready: list[str]) -> bool:
        return bool(ready) and not self.stopping.is_set() and not self._failed()

    def _collect(self) -> None:
        for name, future in list(self.running.items()):
            if future.done():
                del self.running[name]
                self.outcomes[name] = _outcome(future)

    def _failed(self) -> bool:
        return any(o.status == "Failed" for o in self.outcomes.values())

    def _ready(self) -> list[str]:
        """Steps not yet run whose upstream steps all succeeded, in a branch that was taken."""
        ready = []
        for name, step in self.definition.steps.items():
            if name in self.outcomes or name in self.running:
                continue
            ups = self.definition.upstream[name]
            if not all(u in self.outcomes and self.outcomes[u].status == "Succeeded" for u in ups):
                continue
            if step.branch is not None:
                condition, taken = step.branch
                if self.outcomes[condition].condition is not taken:
                    continue
            ready.append(name)
        return ready

    def _ending(self) -> Ending:
        failed = [(n, o) for n, o in self.outcomes.items() if o.status == "Failed"]
        if failed:
            name, outcome = failed[0]
            step = self.definition.steps[name]
            if step.type == "Fail":
                return Ending("Failed", outcome.failure_reason)
            return Ending("Failed", f"Step failure: step {name!r} failed: {outcome.failure_reason}")
        if self.stopping.is_set():
            return Ending("Stopped")
        return Ending("Succeeded")

    def _properties_of(self, name: str) -> dict[str, Any]:
        if name not in self.properties:
            raise EvaluationError(f"step {name!r} has not run in this execution")
        return self.properties[name]


def _concurrent(future) -> Future:
    return getattr(future, "wrapped_future", future)


def _outcome(future) -> Outcome:
    try:
        return future.result()
    except Exception as exc:  # the task itself broke: the step failed
        return Outcome("Failed", f"InternalServerError: {type(exc).__name__}: {exc}")


def _read_json(uri: str) -> Any:
    try:
        return json.loads(get_store().read_bytes(uri))
    except (StorageError, ValueError) as exc:
        raise EvaluationError(f"cannot read JSON from {uri}: {exc}") from None


def restore_schedules() -> dict:
    """Run by the serve process once its deployments are registered (which clears their
    schedules): every pipeline schedule is applied to Prefect again, and the runs due while the
    platform was down are recorded as missed."""
    from console.pipelines.schedules import pipeline_schedules_restore

    restored = pipeline_schedules_restore()
    log.info("Pipeline schedules restored: %s", restored)
    return restored
