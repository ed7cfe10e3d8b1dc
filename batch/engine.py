"""Run a transform job on a Dask cluster: one task per range, one atomic ``.out`` per object.

Ranges are submitted together (earlier objects first) and spread over every worker; as an
object's last range lands, its parts are composed into ``<name>.out`` here, in the driver, so that
after a stop is seen nothing more is published. A range whose worker dies is rerun by Dask on
another worker; its part key is deterministic and written atomically, so reruns never duplicate.
An object with a failed range gets no ``.out``; its other ranges still finish (their line counts
number the failing line within the object) and their parts are deleted.

TransformResources.InstanceCount sizes the job's own cluster (``infra.dask.dask_client``); on a
shared cluster every worker takes ranges. Each worker runs one range at a time, so
MaxConcurrentTransforms (validated by the spec) does not add threads; Environment is for
containers and has no effect on the in-process built-ins.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from distributed import Client, Event, Future, as_completed

from batch.assemble import discard, part_uris, publish
from batch.plan import ObjectPlan, plan_transform, temp_prefix
from batch.predict import STORAGE_WAIT_SECONDS, RangeFailure, RangeResult, RangeTask, run_range
from batch.spec import TransformSpec
from infra.storage.base import ObjectStore, StorageUnavailable, until_available

MAX_FAILURE_REASON = 1024
# Retries for a range task that raised (storage hiccup); a lost worker is rerun by the scheduler.
TASK_RETRIES = 2
POLL_SECONDS = 0.2
# Progress is reported at most this often (and once more at the end).
PROGRESS_SECONDS = 0.5
# How long a stop waits for running ranges to notice it and end before cleaning up regardless.
STOP_GRACE_SECONDS = 60.0

ObjectState = Literal["InProgress", "Completed", "Failed", "Stopped"]


@dataclass(frozen=True)
class Failure:
    """Why one input object has no output: the object, the line (within it) and the reason."""

    object_uri: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.object_uri} line {self.line}" if self.line else self.object_uri
        return f"{where}: {self.message}"


@dataclass
class ObjectStatus:
    """One input object's state; ``records`` and ``bytes_in`` grow as its ranges finish."""

    uri: str
    output_uri: str
    ranges: int
    size: int = 0
    status: ObjectState = "InProgress"
    ranges_done: int = 0
    records: int = 0
    bytes_in: int = 0
    bytes_out: int = 0


@dataclass(frozen=True)
class Progress:
    """What the job has done so far, in total and per object (``objects``, a snapshot)."""

    objects_total: int
    objects_completed: int
    objects_failed: int
    ranges_total: int
    ranges_done: int
    records: int
    bytes_done: int
    bytes_total: int
    objects: tuple[ObjectStatus, ...] = ()


@dataclass
class TransformResult:
    status: Literal["Completed", "Failed", "Stopped"]
    objects: list[ObjectStatus]
    failures: list[Failure] = field(default_factory=list)

    @property
    def records(self) -> int:
        return sum(item.records for item in self.objects)

    @property
    def bytes_in(self) -> int:
        return sum(item.bytes_in for item in self.objects)

    @property
    def bytes_out(self) -> int:
        return sum(item.bytes_out for item in self.objects)

    @property
    def progress(self) -> Progress:
        """The final counters, as the last progress report would give them."""
        return Progress(
            objects_total=len(self.objects),
            objects_completed=sum(o.status == "Completed" for o in self.objects),
            objects_failed=sum(o.status == "Failed" for o in self.objects),
            ranges_total=sum(o.ranges for o in self.objects),
            ranges_done=sum(o.ranges_done for o in self.objects),
            records=self.records,
            bytes_done=self.bytes_in,
            bytes_total=sum(o.size for o in self.objects),
            objects=tuple(replace(o) for o in self.objects),
        )

    @property
    def failure_reason(self) -> str | None:
        """DescribeTransformJob's FailureReason (at most 1024 characters)."""
        if not self.failures:
            return None
        reason = f"{len(self.failures)} of {len(self.objects)} input objects failed: " + "; ".join(
            str(failure) for failure in self.failures
        )
        if len(reason) > MAX_FAILURE_REASON:
            reason = reason[: MAX_FAILURE_REASON - 3] + "..."
        return reason


def run_transform(
    spec: TransformSpec,
    *,
    job_name: str,
    containers: Sequence[Mapping[str, Any]],
    store: ObjectStore,
    client: Client,
    progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    range_bytes: int | None = None,
    log: Callable[[str], None] | None = None,
) -> TransformResult:
    """Transform every input object of ``spec`` with the model made of ``containers``.

    ``containers`` are a registered model's (``{"Image", "ModelDataUrl", "Environment"}``; several
    make a serial inference pipeline); each ``ModelDataUrl`` is a ``model.tar.gz`` in storage or
    a local model directory. ``range_bytes`` overrides the nominal range size (chosen from the
    input size and the cluster's workers). ``log`` is given the job's log lines: its plan, each
    object's outcome, its end. Raises ``batch.plan.InputError`` when the input matches nothing.
    """
    workers = len(client.scheduler_info()["workers"])
    plans = plan_transform(spec, store, job_name=job_name, range_bytes=range_bytes, workers=workers)
    run = _Run(spec, plans, job_name=job_name, store=store, client=client, log=log)
    run.log_plan(workers)
    try:
        return run.execute(
            tuple(containers),
            progress=progress or (lambda _progress: None),
            should_stop=should_stop or (lambda: False),
        )
    finally:
        _remove_scratch(store, temp_prefix(spec.output_path, job_name), log=run.log)


class _Run:
    """One execution's bookkeeping: futures by object, results per range, object states."""

    def __init__(
        self,
        spec: TransformSpec,
        plans: list[ObjectPlan],
        *,
        job_name: str,
        store: ObjectStore,
        client: Client,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.log = log or (lambda _line: None)
        self.spec = spec
        self.plans = plans
        self.job_name = job_name
        self.store = store
        self.client = client
        self.token = f"{job_name}-{uuid.uuid4().hex[:8]}"
        self.objects = [
            ObjectStatus(p.uri, p.output_uri, ranges=len(p.ranges), size=p.size) for p in plans
        ]
        self.results: list[dict[int, RangeResult]] = [{} for _ in plans]
        self.failures: dict[int, Failure] = {}
        self.ranges_by_key: dict[str, tuple[int, int]] = {}
        self.unrecorded: dict[str, Future] = {}  # submitted ranges whose result is not read yet

    def log_plan(self, workers: int) -> None:
        spec = self.spec
        self.log(
            f"Transform job {self.job_name}: {len(self.plans)} input objects, "
            f"{sum(p.size for p in self.plans)} bytes in {sum(len(p.ranges) for p in self.plans)} "
            f"ranges on {workers} workers"
        )
        self.log(
            f"MaxConcurrentTransforms={spec.max_concurrent_transforms}, "
            f"MaxPayloadInMB={spec.max_payload_mb}, BatchStrategy={spec.batch_strategy}, "
            f"SplitType={spec.split_type}"
        )

    def execute(
        self,
        containers: tuple[Mapping[str, Any], ...],
        *,
        progress: Callable[[Progress], None],
        should_stop: Callable[[], bool],
    ) -> TransformResult:
        if should_stop():
            return self._stopped()
        stop_event = Event(f"sagebrush-stop-{self.token}", client=self.client)
        pending = as_completed(self._submit(containers, stop_event_name=stop_event.name))
        reported_at = 0.0
        try:
            while not pending.is_empty():
                if should_stop():
                    return self._stop(stop_event)
                if not pending.has_ready():
                    time.sleep(POLL_SECONDS)
                    continue
                for future in pending.next_batch(block=False):
                    if not self._record(future):
                        pending.add(future)  # lost with its worker before it was read
                        continue
                    if should_stop():  # checked between completions: publish nothing more
                        return self._stop(stop_event)
                if pending.is_empty() or time.monotonic() - reported_at >= PROGRESS_SECONDS:
                    progress(self._progress())
                    reported_at = time.monotonic()
        finally:
            self.client.cancel(list(self.unrecorded.values()))
            stop_event.clear()
        return self._result("Failed" if self.failures else "Completed")

    def _submit(
        self, containers: tuple[Mapping[str, Any], ...], *, stop_event_name: str
    ) -> list[Future]:
        for plan, parts in ((p, self._parts(p)) for p in self.plans):
            for byte_range, part in zip(plan.ranges, parts, strict=True):
                task = RangeTask(
                    spec=self.spec,
                    store=self.store,
                    containers=containers,
                    object_index=plan.index,
                    object_uri=plan.uri,
                    range=byte_range,
                    part_uri=part,
                    stop_event=stop_event_name,
                )
                key = f"sagebrush-range-{self.token}-{plan.index}-{byte_range.index}"
                self.ranges_by_key[key] = (plan.index, byte_range.index)
                self.unrecorded[key] = self.client.submit(
                    run_range,
                    task,
                    key=key,
                    pure=False,
                    retries=TASK_RETRIES,
                    # Earlier objects first, so outputs appear in key order as the job runs.
                    priority=-plan.index,
                )
        return list(self.unrecorded.values())

    def _record(self, future: Future) -> bool:
        """Read a completed range's result into its object; False when the range's result was
        lost with its worker between completing and being read (Dask computes it again)."""
        if future.status not in ("finished", "error", "cancelled"):
            return False
        object_index, range_index = self.ranges_by_key[future.key]
        # Let go of the range once its result is read: a finished range whose worker dies later
        # would otherwise be recomputed for nothing, its part written again after publishing.
        del self.unrecorded[future.key]
        if future.status == "finished":
            result = future.result()
            future.release()
        else:  # raised after its retries, or its workers kept dying
            error = future.exception()
            result = RangeResult(
                object_index,
                range_index,
                0,
                0,
                0,
                0,
                failure=RangeFailure(None, f"{type(error).__name__}: {error}"),
            )
        self.results[object_index][range_index] = result
        status = self.objects[object_index]
        status.ranges_done += 1
        status.bytes_in += result.bytes_in
        status.records += result.records
        if status.ranges_done == status.ranges:
            self._finish_object(object_index)
        return True

    def _finish_object(self, object_index: int) -> None:
        plan, status = self.plans[object_index], self.objects[object_index]
        results = [self.results[object_index][r.index] for r in plan.ranges]
        parts = self._parts(plan)
        first_failed = next((r for r in results if r.failure), None)
        if first_failed is None:
            status.bytes_out = publish(self.store, plan, parts=parts, wait=STORAGE_WAIT_SECONDS)
            status.status = "Completed"
            self.log(f"{plan.uri}: {status.records} records -> {plan.output_uri}")
            return
        discard(self.store, parts)
        status.status = "Failed"
        failure = first_failed.failure
        assert failure is not None
        line = None
        if failure.line is not None:
            # Ranges before the first failed one all succeeded, so their line counts are known.
            line = sum(r.lines for r in results[: first_failed.range_index]) + failure.line
        self.failures[object_index] = Failure(plan.uri, line, failure.message)
        self.log(f"Failed {self.failures[object_index]}")

    def _parts(self, plan: ObjectPlan) -> list[str]:
        return part_uris(plan, output_path=self.spec.output_path, job_name=self.job_name)

    def _progress(self) -> Progress:
        return TransformResult("Completed", self.objects).progress

    def _stop(self, stop_event: Event) -> TransformResult:
        """Tell running ranges to give up, and wait for them so no part is written after."""
        self.log("Stop requested: ending the ranges in hand; no more output is published")
        stop_event.set()
        _wait_quietly(list(self.unrecorded.values()), timeout=STOP_GRACE_SECONDS)
        return self._stopped()

    def _stopped(self) -> TransformResult:
        for status in self.objects:
            if status.status == "InProgress":
                status.status = "Stopped"
        return self._result("Stopped")

    def _result(self, status: Literal["Completed", "Failed", "Stopped"]) -> TransformResult:
        failures = [self.failures[index] for index in sorted(self.failures)]
        result = TransformResult(status, self.objects, failures)
        done = [o for o in self.objects if o.status == "Completed"]
        self.log(
            f"Transform job {status}: {len(done)} of {len(self.objects)} objects transformed, "
            f"{sum(o.records for o in done)} records"
        )
        return result


def _remove_scratch(store: ObjectStore, prefix: str, *, log: Callable[[str], None]) -> None:
    """Delete the job's range parts (a job failed by a storage outage would otherwise leave them
    under its output path), waiting out the outage; past that, say what is left rather than hide
    the job's own outcome or error."""
    try:
        until_available(lambda: store.delete_prefix(prefix), within=STORAGE_WAIT_SECONDS)
    except StorageUnavailable as error:
        log(f"Range parts left under {prefix}: {error}")


def _wait_quietly(futures: list[Future], *, timeout: float) -> None:
    """Wait for running ranges to end (they check the stop event between batches)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not all(f.done() for f in futures):
        time.sleep(POLL_SECONDS)
