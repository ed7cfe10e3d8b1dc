"""The pipeline flow: one flow run per execution, one Prefect task per step.

``run_pipeline_execution(job_id)`` does the work and is what tests call; the ``pipeline`` flow
wraps it for Prefect, submitting each step as a task (independent steps run at once, up to
``MaxParallelExecutionSteps``). The job runner (``flows.jobs``) gates, fails and reads the
execution. A step that runs a job creates it through the job's own service, as the pipeline's
owner, and waits on the job's row while the job's own flow runs it; what later steps read
(``Steps.<name>.…``) is the job's Describe* response. A stop request stops the running jobs and
ends the execution Stopped once they have ended.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import secrets
import string
import threading
import time
from collections.abc import Callable
from concurrent import futures
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from django.db import connections
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from console.core.errors import InvalidState, LimitExceeded, ServiceError
from console.core.shapes import ShapeError
from console.pipelines import services
from console.pipelines.definition import fit_to_request
from console.pipelines.expressions import (
    Context,
    EvaluationError,
    evaluate_conditions,
    resolve,
)
from console.pipelines.selectors import (
    pipeline_execution_by_id,
    pipeline_execution_stop_requested,
    pipeline_step_cached,
    pipeline_step_job,
)
from console.pipelines.services import pipeline_definition_check
from console.pipelines.steps import StepKind, step_kinds
from flows.jobs import JobKind, StopPoll, run_job
from infra.storage import StorageError, get_store

if TYPE_CHECKING:
    from console.pipelines.definition import Step
    from console.pipelines.models import PipelineExecution

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
NAME_SUFFIX = string.ascii_lowercase + string.digits
DEFAULT_RETRIES = 5

PIPELINE = JobKind(
    noun="Pipeline execution",
    get=pipeline_execution_by_id,
    stop_requested=pipeline_execution_stop_requested,
    end_stopped=partial(services.pipeline_execution_finish, status="Stopped"),
    fail=services.pipeline_execution_fail,
    client_errors=(),
    fault="InternalServerError",
)

Submit = Callable[[str, Callable[[], "Outcome"]], Future]
RunChild = Callable[[int], object]


@dataclass(frozen=True)
class Outcome:
    """How a step ended: its status, why it failed, a Condition's outcome."""

    status: str
    failure_reason: str = ""
    condition: bool | None = None


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
        self.run_child = run_child
        self.definition = pipeline_definition_check(execution.definition)
        self.kinds = step_kinds()
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

    # -- the loop ------------------------------------------------------------------------------

    def run(self) -> Ending:
        while True:
            if not self.stopping.is_set() and self.stop_requested():
                self.stopping.set()
            self._collect()
            ready = [] if self.stopping.is_set() or self._failed() else self._ready()
            free = self.max_parallel - len(self.running)
            for name in ready[: max(free, 0)]:
                self.running[name] = self.submit(name, partial(self.run_step, name))
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

    # -- one step ------------------------------------------------------------------------------

    def run_step(self, name: str) -> Outcome:
        step = self.definition.steps[name]
        step_id = services.pipeline_step_begin(
            job_id=self.execution.pk,
            name=name,
            type=step.type,
            display_name=step.display_name,
            description=step.description,
        )
        try:
            outcome = self._run(step, step_id)
        except EvaluationError as exc:
            outcome = Outcome("Failed", f"ClientError: {exc}")
        except Exception as exc:  # the platform's own fault: the traceback goes to the log
            log.exception("Step %s of %s failed", name, self.execution.arn)
            outcome = Outcome("Failed", f"InternalServerError: {type(exc).__name__}: {exc}")
        if outcome.status == "Failed" and step.type not in ("Fail",):
            services.pipeline_step_finish(
                step_id=step_id, status="Failed", failure_reason=outcome.failure_reason
            )
        log.info("Step %s ended %s %s", name, outcome.status, outcome.failure_reason)
        return outcome

    def _run(self, step: Step, step_id: int) -> Outcome:
        if step.type == "Condition":
            holds = evaluate_conditions(step.arguments["Conditions"], self.context)
            self.properties[step.name] = {"Outcome": holds}
            services.pipeline_step_finish(
                step_id=step_id,
                status="Succeeded",
                metadata={"Condition": {"Outcome": "True" if holds else "False"}},
                properties={"Outcome": holds},
            )
            return Outcome("Succeeded", condition=holds)
        if step.type == "Fail":
            message = str(resolve(step.arguments.get("ErrorMessage", ""), self.context))
            services.pipeline_step_finish(
                step_id=step_id,
                status="Failed",
                failure_reason=message,
                metadata={"Fail": {"ErrorMessage": message}},
            )
            return Outcome("Failed", message)
        return self._run_job_step(step, step_id, self.kinds[step.type])

    def _run_job_step(self, step: Step, step_id: int, kind: StepKind) -> Outcome:
        arguments = resolve(step.arguments, self.context)
        if kind.definition.operation is not None:
            arguments = fit_to_request(kind.definition.operation, arguments)
        digest = arguments_hash(step.type, arguments)
        services.pipeline_step_report(step_id=step_id, arguments=arguments, arguments_hash=digest)
        if step.cache_enabled:
            cached = pipeline_step_cached(
                pipeline_id=self.pipeline.pk,
                name=step.name,
                arguments_hash=digest,
                expire_after=step.cache_expire_after,
            )
            if cached is not None:
                return self._reuse(step, step_id, cached)
        attempt, first_try = 0, time.monotonic()
        while True:
            attempt += 1
            outcome, exception_type = self._attempt(step, step_id, kind, arguments, attempt)
            if outcome.status != "Failed" or exception_type is None:
                return outcome
            delay = retry_delay(step.retry_policies, exception_type, attempt, first_try)
            if delay is None or self.stopping.is_set():
                return outcome
            log.info("Step %s: %s, retrying in %.1f s", step.name, exception_type, delay)
            time.sleep(delay)

    def _attempt(
        self, step: Step, step_id: int, kind: StepKind, arguments: dict, attempt: int
    ) -> tuple[Outcome, str | None]:
        """Create the step's job once and wait for it; the exception type a retry policy may
        name, when it failed."""
        spec = dict(arguments)
        name_field = kind.definition.name_field
        if name_field and not spec.get(name_field):
            spec[name_field] = job_name(self.execution.name, step.name, kind.max_name_length)
        options = {"source": self.execution.arn} if kind.metadata_key == "RegisterModel" else {}
        try:
            row = kind.create(user=self.execution.owner, spec=spec, **options)
        except LimitExceeded as exc:
            return Outcome("Failed", f"ClientError: {exc.message}"), "SageMaker.RESOURCE_LIMIT"
        except (ServiceError, ShapeError) as exc:
            return Outcome("Failed", f"ClientError: {exc}"), None
        metadata = {kind.metadata_key: {"Arn": row.arn}}
        services.pipeline_step_report(
            step_id=step_id,
            status="Executing",
            job_arn=row.arn,
            metadata=metadata,
            attempts=attempt,
        )
        status = self._wait(step, kind, row)
        row = pipeline_step_job(row)
        properties = json_document(kind.describe(row))
        if not kind.running or status in kind.succeeded:
            self.properties[step.name] = properties
            services.pipeline_step_finish(
                step_id=step_id, status="Succeeded", metadata=metadata, properties=properties
            )
            return Outcome("Succeeded"), None
        if status in ("Stopped", "Stopping") or self.stopping.is_set():
            services.pipeline_step_finish(step_id=step_id, status="Stopped", metadata=metadata)
            return Outcome("Stopped"), None
        reason = getattr(row, "failure_reason", "") or f"{kind.metadata_key} ended {status}"
        services.pipeline_step_finish(
            step_id=step_id, status="Failed", failure_reason=reason, metadata=metadata
        )
        internal = not reason.startswith("ClientError")
        return Outcome("Failed", reason), "SageMaker.JOB_INTERNAL_ERROR" if internal else None

    def _wait(self, step: Step, kind: StepKind, row) -> str:
        """Until the job ends; a stop request stops it (once) and waits for its end."""
        if not kind.running:
            return ""
        if step.type in self.run_child:
            self.run_child[step.type](row.pk)
        stop_sent = False
        while True:
            status = pipeline_step_job(row).status
            if status not in kind.running:
                return status
            if self.stopping.is_set() and not stop_sent and kind.stop is not None:
                stop_sent = True
                with contextlib.suppress(InvalidState):  # it ended meanwhile
                    kind.stop(user=self.execution.owner, name=row.name)
            time.sleep(self.poll_seconds)

    def _reuse(self, step: Step, step_id: int, cached) -> Outcome:
        source = cached.cache_source_arn or cached.execution.arn
        self.properties[step.name] = cached.properties
        services.pipeline_step_finish(
            step_id=step_id,
            status="Succeeded",
            metadata=cached.metadata,
            properties=cached.properties,
            cache_source_arn=source,
        )
        log.info("Step %s reuses the result of %s", step.name, source)
        return Outcome("Succeeded")

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


def job_name(execution_id: str, step_name: str, max_length: int = 63) -> str:
    """A job name as SageMaker makes one for a step whose Arguments give none:
    ``pipelines-<execution id>-<step>-<random>``, cut to ``max_length``."""
    suffix = "".join(secrets.choice(NAME_SUFFIX) for _ in range(6))
    clean = re.sub(r"[^A-Za-z0-9-]", "-", step_name).strip("-") or "step"
    base = f"pipelines-{execution_id}-{clean}"[: max_length - len(suffix) - 1].rstrip("-")
    return f"{base}-{suffix}"


def arguments_hash(step_type: str, arguments: dict[str, Any]) -> str:
    """The cache key of a step: its type and resolved arguments."""
    text = json.dumps({"Type": step_type, "Arguments": arguments}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def retry_delay(
    policies: list[dict[str, Any]], exception_type: str, attempt: int, first_try: float
) -> float | None:
    """Seconds to wait before trying again after ``attempt`` tries, or None: no policy names
    the exception, or its MaxAttempts or ExpireAfterMin are used up."""
    for policy in policies:
        if exception_type not in policy["ExceptionType"]:
            continue
        retries = attempt - 1
        expire = policy.get("ExpireAfterMin")
        if expire is not None:
            if time.monotonic() - first_try >= expire * 60:
                return None
        elif retries >= policy.get("MaxAttempts", DEFAULT_RETRIES):
            return None
        interval = policy.get("IntervalSeconds", 1)
        return float(interval * policy.get("BackoffRate", 2.0) ** retries)
    return None


def json_document(value: Any) -> Any:
    """A Describe* response as JSON can hold it: times as ISO-8601 text."""

    def encode(item: Any) -> Any:
        if isinstance(item, datetime):
            return item.isoformat()
        return str(item)

    return json.loads(json.dumps(value, default=encode))


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
