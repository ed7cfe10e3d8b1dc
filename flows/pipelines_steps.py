"""Running one step of a pipeline execution: a Condition's outcome, a Fail step's message, or a
job step's job, created through the job's own service as the pipeline's owner and waited on while
the job's own flow runs it, its result reused where ``CacheConfig`` allows and retried as its
``RetryPolicies`` say. What later steps read (``Steps.<name>.…``) is the job's Describe* response.
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
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from console.core.errors import InvalidState, LimitExceeded, ServiceError
from console.core.shapes import ShapeError
from console.pipelines import services
from console.pipelines.definition import fit_to_request
from console.pipelines.expressions import Context, EvaluationError, evaluate_conditions, resolve
from console.pipelines.selectors import pipeline_step_cached, pipeline_step_job
from console.pipelines.steps import StepKind

if TYPE_CHECKING:
    from console.pipelines.definition import Definition, Step
    from console.pipelines.models import PipelineExecution

log = logging.getLogger(__name__)

NAME_SUFFIX = string.ascii_lowercase + string.digits
DEFAULT_RETRIES = 5

RunChild = Callable[[int], object]


@dataclass(frozen=True)
class Outcome:
    """How a step ended: its status, why it failed, a Condition's outcome."""

    status: str
    failure_reason: str = ""
    condition: bool | None = None


class StepRunner:
    """Runs the steps of one execution, each once, recording what they publish in
    ``properties`` (shared with the execution's expression context); ``stopping`` is set when
    the execution is asked to stop."""

    def __init__(
        self,
        execution: PipelineExecution,
        *,
        definition: Definition,
        kinds: dict[str, StepKind],
        context: Context,
        properties: dict[str, dict[str, Any]],
        stopping: threading.Event,
        poll_seconds: float,
        run_child: dict[str, RunChild],
    ) -> None:
        self.execution = execution
        self.pipeline = execution.pipeline
        self.definition = definition
        self.kinds = kinds
        self.context = context
        self.properties = properties
        self.stopping = stopping
        self.poll_seconds = poll_seconds
        self.run_child = run_child

    def run(self, name: str) -> Outcome:
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
