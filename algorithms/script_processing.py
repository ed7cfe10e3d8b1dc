"""A processing job as SageMaker's container contract runs it: the inputs in place at their
``LocalPath``, the container's command run once per instance in the job sandbox, the outputs
uploaded (as they are written for ``Continuous``, and at the end, even when the script failed).

Each instance has its own ``/opt/ml`` tree (a host folder the sandbox binds at ``/opt/ml``):
``processing/...`` for the inputs and outputs, ``config/processingjobconfig.json`` (the request)
and ``config/resourceconfig.json`` (``current_host``, ``hosts``), ``output/message``.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from algorithms.base import Reporter
from algorithms.process import STOP_GRACE_SECONDS, Outcome, exception_text, supervise
from algorithms.sandbox import Sandbox, base_environment, instance_limits, sandbox_status
from infra.storage import ObjectStore
from infra.storage.inputs import InputObject, container_path, list_inputs

CONTAINER_ROOT = "/opt/ml"
MESSAGE_LIMIT = 1024
MESSAGE_READ_LIMIT = 64 * 1024
FAILURE_REASON_LIMIT = 1024
CONTINUOUS_SCAN_SECONDS = 1.0
RELAY_SECONDS = 0.1  # how often the instances' log lines reach the job's log


class ProcessingClientError(Exception):
    """The job's request or data is at fault (SageMaker's ``ClientError``)."""


@dataclass(frozen=True)
class ProcessingResult:
    status: str  # Completed, Failed or Stopped
    failure_reason: str
    exit_message: str
    stopped_by: str | None  # Stopped or MaxRuntimeExceeded


@dataclass
class Instance:
    """One instance of the job: its host name and its folders on the platform's disk."""

    host: str
    root: Path  # the instance's /opt/ml
    tmp: Path  # the instance's /tmp
    sandbox: Sandbox | None = None

    def local(self, container_path: str) -> Path:
        """Where a container path (``/opt/ml/processing/input``) lies on the host."""
        relative = os.path.relpath(os.path.normpath(container_path), CONTAINER_ROOT)
        return self.root / relative


@dataclass
class Uploads:
    """What has been uploaded of each output: ``{output name: {local file: (size, mtime)}}``."""

    done: dict[str, dict[str, tuple[int, float]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def summary(self, outputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        with self.lock:
            return [
                {
                    "OutputName": item["OutputName"],
                    "S3Uri": item["S3Output"]["S3Uri"],
                    "Objects": len(self.done.get(item["OutputName"], {})),
                }
                for item in outputs
            ]


def instances_for(spec: Mapping[str, Any], work: Path) -> list[Instance]:
    count = spec["ProcessingResources"]["ClusterConfig"].get("InstanceCount", 1)
    hosts = [f"algo-{n}" for n in range(1, count + 1)]
    return [Instance(host, work / host / "ml", work / host / "tmp") for host in hosts]


def stage_instance(
    instance: Instance,
    *,
    spec: Mapping[str, Any],
    hosts: list[str],
    index: int,
    store: ObjectStore,
    reporter: Reporter,
) -> None:
    """Lay out the instance's /opt/ml: its share of every input, empty output folders, the
    config files; then its sandbox, its folders handed to the job's user."""
    for folder in ("config", "output", "processing"):
        (instance.root / folder).mkdir(parents=True, exist_ok=True)
    instance.tmp.mkdir(parents=True, exist_ok=True)
    (instance.root / "config" / "processingjobconfig.json").write_text(json.dumps(spec))
    (instance.root / "config" / "resourceconfig.json").write_text(
        json.dumps({"current_host": instance.host, "hosts": hosts})
    )
    for item in spec.get("ProcessingInputs", []):
        _stage_input(instance, item, index=index, count=len(hosts), store=store, reporter=reporter)
    for item in spec.get("ProcessingOutputConfig", {}).get("Outputs", []):
        instance.local(item["S3Output"]["LocalPath"]).mkdir(parents=True, exist_ok=True)
    resources = spec["ProcessingResources"]["ClusterConfig"]
    instance.sandbox = Sandbox(
        root=instance.root,
        tmp=instance.tmp,
        environment={**base_environment(), **spec.get("Environment", {})},
        limits=instance_limits(resources.get("InstanceType", "")),
    )
    instance.sandbox.prepare()


def _stage_input(
    instance: Instance,
    item: Mapping[str, Any],
    *,
    index: int,
    count: int,
    store: ObjectStore,
    reporter: Reporter,
) -> None:
    source = item["S3Input"]
    objects = list_inputs(store, data_type=source["S3DataType"], uri=source["S3Uri"])
    if source.get("S3DataDistributionType") == "ShardedByS3Key":
        objects = objects[index::count]
    target = instance.local(source["LocalPath"])
    target.mkdir(parents=True, exist_ok=True)
    gzipped = source.get("S3CompressionType") == "Gzip"
    for obj in objects:
        local = target / _relative_path(source, obj)
        if gzipped:
            local = local.with_name(local.name.removesuffix(".gz"))
            local.parent.mkdir(parents=True, exist_ok=True)
            with (
                store.open_read(obj.uri) as raw,
                gzip.open(raw) as unpacked,
                local.open("wb") as out,
            ):
                try:
                    shutil.copyfileobj(unpacked, out)
                except (OSError, EOFError) as error:
                    raise ProcessingClientError(
                        f"input {item['InputName']}: {obj.uri} is not gzip data ({error})"
                    ) from None
        else:
            store.download_file(obj.uri, str(local))
    reporter.log(
        f"[{instance.host}] input {item['InputName']}: {len(objects)} objects from "
        f"{source['S3Uri']} at {source['LocalPath']}"
    )


def _relative_path(source: Mapping[str, Any], obj: InputObject) -> str:
    """Where an object lands below the input's LocalPath (see :func:`container_path`)."""
    return container_path(obj, data_type=source["S3DataType"], uri=source["S3Uri"])


def run_processing(
    spec: Mapping[str, Any],
    *,
    work: Path,
    store: ObjectStore,
    reporter: Reporter,
    stopped_by: Callable[[], str | None],
    on_started: Callable[[], None] = lambda: None,
    on_uploaded: Callable[[list[dict[str, Any]]], None] = lambda uploaded: None,
    stop_grace_seconds: float = STOP_GRACE_SECONDS,
) -> ProcessingResult:
    """Run the job in ``work`` (an empty folder) to its end.

    ``reporter.should_stop()`` stops every instance; ``stopped_by()`` then says why (Stopped or
    MaxRuntimeExceeded). Raises :class:`ProcessingClientError` for input that cannot be staged.
    """
    status = sandbox_status()
    if not status.available:
        raise ProcessingClientError(
            "processing jobs need the job sandbox, which puts their files at /opt/ml: "
            f"{status.reason}"
        )
    instances = instances_for(spec, work)
    hosts = [instance.host for instance in instances]
    for index, instance in enumerate(instances):
        stage_instance(
            instance, spec=spec, hosts=hosts, index=index, store=store, reporter=reporter
        )
    outputs = spec.get("ProcessingOutputConfig", {}).get("Outputs", [])
    uploads = Uploads()
    argv = [
        *spec["AppSpecification"].get("ContainerEntrypoint", []),
        *spec["AppSpecification"].get("ContainerArguments", []),
    ]
    on_started()
    reporter.log(f"Running {' '.join(argv)} on {', '.join(hosts)}")
    relay = _Relay()
    continuous = [o for o in outputs if o["S3Output"].get("S3UploadMode") == "Continuous"]
    try:
        with ThreadPoolExecutor(max_workers=len(instances)) as pool:
            runs = [
                pool.submit(
                    _run_instance, instance, argv, relay, len(instances), stop_grace_seconds
                )
                for instance in instances
            ]
            # This thread alone talks to the reporter (the job's row): the instances' threads
            # hand their lines over, and learn from it whether to stop.
            next_scan = time.monotonic() + CONTINUOUS_SCAN_SECONDS
            while not all(run.done() for run in runs):
                wait(runs, timeout=RELAY_SECONDS)
                relay.forward(reporter)
                if time.monotonic() >= next_scan:
                    next_scan = time.monotonic() + CONTINUOUS_SCAN_SECONDS
                    if continuous and _upload(instances, continuous, store, uploads, final=False):
                        on_uploaded(uploads.summary(outputs))
            relay.forward(reporter)
            outcomes = [run.result() for run in runs]
    finally:
        relay.stop = True  # an error here: end every instance's script too
        # What the script wrote is uploaded however it ended, as SageMaker does.
        _upload(instances, outputs, store, uploads, final=True)
        on_uploaded(uploads.summary(outputs))
    reporter.log(
        "Uploaded "
        + (
            ", ".join(f"{u['OutputName']}: {u['Objects']} files" for u in uploads.summary(outputs))
            or "no outputs"
        )
    )
    exit_message = _exit_message(instances)
    why_stopped = stopped_by()
    if why_stopped == "Stopped":
        return ProcessingResult("Stopped", "", exit_message, why_stopped)
    if why_stopped == "MaxRuntimeExceeded":
        limit = spec.get("StoppingCondition", {}).get("MaxRuntimeInSeconds")
        reason = (
            "MaxRuntimeExceeded: the job ran past StoppingCondition.MaxRuntimeInSeconds "
            f"({limit} s) and was stopped"
        )
        return ProcessingResult("Failed", reason, exit_message, why_stopped)
    for instance, outcome in zip(instances, outcomes, strict=True):
        if outcome.exit_code != 0:
            return ProcessingResult(
                "Failed", failure_reason(instance.host, outcome), exit_message, None
            )
    return ProcessingResult("Completed", "", exit_message, None)


class _Relay:
    """The reporter the instances' threads see: lines queued for the job's thread to forward, and
    the stop it last heard of."""

    def __init__(self) -> None:
        self.stop = False
        self._lines: list[str] = []
        self._lock = threading.Lock()

    def log(self, message: str) -> None:
        with self._lock:
            self._lines.append(message)

    def forward(self, reporter: Reporter) -> None:
        with self._lock:
            lines, self._lines = self._lines, []
        for line in lines:
            reporter.log(line)
        self.stop = self.stop or reporter.should_stop()


class _HostReporter:
    """One instance's reporter, each line prefixed with its host where there are several."""

    def __init__(self, relay: _Relay, prefix: str) -> None:
        self._relay, self._prefix = relay, prefix

    def log(self, message: str) -> None:
        self._relay.log(f"{self._prefix}{message}")

    def metric(self, name: str, value: float, *, step: int | None = None) -> None:
        pass  # processing jobs keep no metrics

    def should_stop(self) -> bool:
        return self._relay.stop


def _run_instance(
    instance: Instance, argv: list[str], relay: _Relay, count: int, grace: float
) -> Outcome:
    sandbox = instance.sandbox
    assert sandbox is not None
    prefix = f"[{instance.host}] " if count > 1 else ""
    return supervise(
        # SageMaker's containers start the command in / as root, where it may write (the abalone
        # evaluation script unpacks its model into "."); the job's user may write in /opt/ml.
        sandbox.command(argv, cwd=CONTAINER_ROOT),
        cwd=Path("/"),
        env=sandbox.host_env(),
        reporter=_HostReporter(relay, prefix),
        stop_grace_seconds=grace,
    )


def _upload(
    instances: list[Instance],
    outputs: list[dict[str, Any]],
    store: ObjectStore,
    uploads: Uploads,
    *,
    final: bool,
) -> int:
    """Upload each output's new or changed files; before the end, only those unchanged since the
    last scan (written and closed, as far as can be seen from outside). Returns how many."""
    count = 0
    for output in outputs:
        destination = output["S3Output"]["S3Uri"].rstrip("/")
        for instance in instances:
            folder = instance.local(output["S3Output"]["LocalPath"])
            if not folder.is_dir():
                continue
            for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
                stat = path.stat()
                state = (stat.st_size, stat.st_mtime)
                with uploads.lock:
                    done = uploads.done.setdefault(output["OutputName"], {})
                    if done.get(str(path)) == state:
                        continue
                if not final and time.time() - stat.st_mtime < CONTINUOUS_SCAN_SECONDS:
                    continue  # still being written
                relative = path.relative_to(folder).as_posix()
                store.upload_file(str(path), f"{destination}/{relative}")
                with uploads.lock:
                    done[str(path)] = state
                count += 1
    return count


def _exit_message(instances: list[Instance]) -> str:
    """Each instance's /opt/ml/output/message, joined, cut to its first KiB. SageMaker fails a job
    whose message is not UTF-8 text: :class:`ProcessingClientError`."""
    messages = []
    for instance in instances:
        path = instance.root / "output" / "message"
        if not path.is_file() or path.is_symlink():
            continue
        with path.open("rb") as message:
            raw = message.read(MESSAGE_READ_LIMIT)
        try:
            messages.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            if len(raw) == MESSAGE_READ_LIMIT:  # cut inside a character: keep what decodes
                messages.append(raw.decode("utf-8", errors="ignore"))
                continue
            raise ProcessingClientError(
                f"/opt/ml/output/message on {instance.host} is not UTF-8 text"
            ) from None
    return "".join(messages)[:MESSAGE_LIMIT]


def failure_reason(host: str, outcome: Outcome) -> str:
    """``AlgorithmError: ...`` ending in the script's exception (type and message), at most
    1,024 characters; the start gives way first."""
    if outcome.exit_code < 0:
        how = f"was killed by signal {signal.Signals(-outcome.exit_code).name}"
    else:
        how = f"exited with code {outcome.exit_code}"
    head = f"AlgorithmError: the processing script on {host} {how}"
    tail = exception_text(outcome.stderr_tail)
    reason = f"{head}: {tail}" if tail else head
    if len(reason) > FAILURE_REASON_LIMIT:
        reason = "AlgorithmError: …" + reason[-(FAILURE_REASON_LIMIT - 17) :]
    return reason
