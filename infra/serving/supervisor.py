"""The serving supervisor: keeps each deployed variant at its instance count on this machine.

    python -m infra.serving.supervisor

Every half second it compares the desired state (:class:`ServingState`) with the instance
processes it started: starts what is missing (Celery workers, :mod:`infra.serving.worker`),
stops what is no longer wanted (warm shutdown), notices any that died, takes back the requests
they held (:mod:`infra.serving.recovery`) and starts a replacement (with a backoff when a
variant keeps crashing). Every few seconds it applies each variant's autoscaling policy. When
Redis loses the serving state (an external Redis restarted empty), it deploys again what it
serves, rather than read the empty state as "stop everything".
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from infra.config import settings
from infra.serving import recovery
from infra.serving.autoscaling import ScalingHistory, ScalingPolicy, decide
from infra.serving.protocol import INSTANCE_ENV, VARIANT_ENV, celery_queue
from infra.serving.state import STATE_UNAVAILABLE, ServingState

log = logging.getLogger(__name__)
STOP_GRACE_S = 75.0  # a warm shutdown finishes the batch in hand (the model has 60 s)
AUTOSCALE_EVERY_S = 5.0
UNREACHABLE_BACKOFF_S = 5.0  # the longest wait between passes while Redis cannot be reached


def instance_argv(variant_id: str, instance_name: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "infra.serving.worker",
        "worker",
        "--pool",
        "solo",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--queues",
        celery_queue(variant_id),
        "--hostname",
        f"{instance_name}@%h",
        "--loglevel",
        "WARNING",
    ]


@dataclass
class VariantProcesses:
    running: dict[str, subprocess.Popen] = field(default_factory=dict)
    stopping: dict[str, tuple[subprocess.Popen, float]] = field(default_factory=dict)
    spec: dict | None = None  # the desired state last read; None once retired
    crashes: int = 0
    not_before: float = 0.0
    scaling: ScalingHistory = field(default_factory=ScalingHistory)


class Supervisor:
    def __init__(
        self,
        state: ServingState,
        *,
        logs_dir: Path | None = None,
        env: dict[str, str] | None = None,
        interval: float = 0.5,
    ) -> None:
        self.state = state
        self.logs_dir = logs_dir
        self.env = env if env is not None else dict(os.environ)
        self.interval = interval
        self.variants: dict[str, VariantProcesses] = {}
        self._next_autoscale = 0.0
        # Names the key by which it notices Redis losing the state (ServingState.variants_watched).
        self.watcher = f"supervisor-{uuid.uuid4().hex[:12]}"

    def run(self, stop: threading.Event) -> None:
        backoff = 0.0
        while not stop.is_set():
            try:
                self.reconcile()
                backoff = 0.0
            except STATE_UNAVAILABLE as exc:
                # Instances keep running meanwhile; Redis is asked again less and less often.
                backoff = min(UNREACHABLE_BACKOFF_S, max(self.interval, backoff * 2))
                log.warning("the serving state is unreachable (%s); again in %.1f s", exc, backoff)
                stop.wait(backoff)
                continue
            except Exception:
                log.exception("reconciling the serving state failed; trying again")
            stop.wait(self.interval)
        self.shutdown()

    # ---- one pass --------------------------------------------------------------------------

    def reconcile(self) -> None:
        desired, lost = self.state.variants_watched(self.watcher)
        if lost:
            desired = self._restore(desired)
        now = time.time()
        if now >= self._next_autoscale:
            self._next_autoscale = now + AUTOSCALE_EVERY_S
            desired = {vid: self.autoscale(vid, spec, now=now) for vid, spec in desired.items()}
        for variant_id in list(self.variants):
            if variant_id not in desired:
                self._retire(variant_id)
        for variant_id, spec in desired.items():
            processes = self.variants.setdefault(variant_id, VariantProcesses())
            processes.spec = spec
            self._reap(variant_id, processes)
            self._recover_silent(variant_id, processes)
            self._scale(variant_id, processes, int(spec.get("instances", 0)))

    def _reap(self, variant_id: str, processes: VariantProcesses) -> None:
        for name, process in list(processes.running.items()):
            if process.poll() is None:
                continue
            del processes.running[name]
            log.warning("instance %s exited with %s", name, process.returncode)
            recovery.requeue_pending(self.state.client, variant_id, name)
            processes.crashes += 1
            processes.not_before = time.time() + min(30.0, 0.5 * 2 ** (processes.crashes - 1))
        for name, (process, deadline) in list(processes.stopping.items()):
            if process.poll() is None and time.time() > deadline:
                process.kill()
            if process.poll() is not None:
                del processes.stopping[name]
                recovery.requeue_pending(self.state.client, variant_id, name)

    def _recover_silent(self, variant_id: str, processes: VariantProcesses) -> None:
        live = set(processes.running) | set(processes.stopping)
        for name in recovery.silent_consumers(self.state.client, variant_id, live):
            recovery.requeue_pending(self.state.client, variant_id, name)

    def _scale(self, variant_id: str, processes: VariantProcesses, wanted: int) -> None:
        if processes.crashes and time.time() > processes.not_before + 60:
            processes.crashes = 0  # a minute without a crash
        while len(processes.running) < wanted and time.time() >= processes.not_before:
            self._start(variant_id, processes)
        if len(processes.running) > wanted:
            # Stop the newest first: the oldest are warm and known good.
            for name in list(processes.running)[wanted:]:
                self._stop(processes, name)

    def _restore(self, desired: dict[str, dict]) -> dict[str, dict]:
        """Redis lost the serving state (restarted empty, say): deploy the variants this
        supervisor serves again, as it last read them, rather than stop their instances. The
        instances register again by their next heartbeat and make their queues again."""
        restored = {
            variant_id: processes.spec
            for variant_id, processes in self.variants.items()
            if processes.spec is not None and variant_id not in desired
        }
        for variant_id, spec in restored.items():
            self.state.restore(variant_id, spec)  # unless deployed anew meanwhile
        if restored:
            log.warning(
                "Redis lost the serving state; deployed again the variants served here: %s",
                ", ".join(restored),
            )
        return {**desired, **restored}

    def _retire(self, variant_id: str) -> None:
        processes = self.variants[variant_id]
        processes.spec = None  # not to be deployed again
        for name in list(processes.running):
            self._stop(processes, name)
        self._reap(variant_id, processes)
        if not processes.running and not processes.stopping:
            recovery.answer_leftovers(self.state.client, variant_id)
            del self.variants[variant_id]

    # ---- processes -------------------------------------------------------------------------

    def _start(self, variant_id: str, processes: VariantProcesses) -> None:
        name = f"{variant_id}.{uuid.uuid4().hex[:6]}"
        # One request's model call gains nothing from a thread pool; under load, idle OpenMP
        # threads spinning for work cost more (LightGBM: 0.6 ms per call with one thread, 14 ms
        # with the default on a busy two-core machine). The environment may still say otherwise.
        env = {"OMP_NUM_THREADS": "1", **self.env, VARIANT_ENV: variant_id, INSTANCE_ENV: name}
        output = subprocess.DEVNULL
        if self.logs_dir is not None:
            self.logs_dir.mkdir(parents=True, exist_ok=True)
            output = (self.logs_dir / f"serving-{variant_id}.log").open("ab")
        processes.running[name] = subprocess.Popen(
            instance_argv(variant_id, name),
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C meant for the stack reaches instances through us
        )
        if output is not subprocess.DEVNULL:
            output.close()
        log.info("started instance %s (pid %d)", name, processes.running[name].pid)

    def _stop(self, processes: VariantProcesses, name: str) -> None:
        process = processes.running.pop(name)
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # Celery's warm shutdown
        processes.stopping[name] = (process, time.time() + STOP_GRACE_S)

    def shutdown(self) -> None:
        for processes in self.variants.values():
            for name in list(processes.running):
                self._stop(processes, name)
        deadline = time.time() + 10
        for processes in self.variants.values():
            for process, _ in processes.stopping.values():
                try:
                    process.wait(timeout=max(0.1, deadline - time.time()))
                except subprocess.TimeoutExpired:
                    process.kill()

    def pids(self, variant_id: str) -> dict[str, int]:
        processes = self.variants.get(variant_id)
        return {name: p.pid for name, p in processes.running.items()} if processes else {}

    # ---- autoscaling -----------------------------------------------------------------------

    def autoscale(self, variant_id: str, spec: dict, *, now: float) -> dict:
        policy = ScalingPolicy.from_spec(spec.get("autoscaling"))
        if policy is None:
            return spec
        current = int(spec.get("instances", 0))
        processes = self.variants.setdefault(variant_id, VariantProcesses())
        decision = decide(
            policy,
            processes.scaling,
            current=current,
            metrics=self._metrics(variant_id, processes, current=current, now=now),
            now=now,
        )
        if decision is None:
            return spec
        log.info(
            "autoscaling %s from %d to %d: %s",
            variant_id,
            current,
            decision.instances,
            decision.cause,
        )
        updated = self.state.update(variant_id, instances=decision.instances)
        if updated is None:
            return spec
        self.state.record_activity(
            variant_id,
            {
                "ActivityId": str(uuid.uuid4()),
                "Description": f"Setting desired instance count to {decision.instances}.",
                "Cause": decision.cause,
                "StartTime": now,
                "EndTime": time.time(),
                "StatusCode": "Successful",
                "StatusMessage": f"Successfully set desired instance count to "
                f"{decision.instances}. Change successfully fulfilled by sagemaker.",
                "Details": f"Instances: {current} -> {decision.instances}",
            },
        )
        return updated

    def _metrics(
        self, variant_id: str, processes: VariantProcesses, *, current: int, now: float
    ) -> dict[str, float]:
        """The variant's metrics over the trailing minute, per minute (latency in µs)."""
        stats = self.state.stats(variant_id, minutes=2, now=now)
        counts = {row.minute: row.invocations for row in stats}
        rate = processes.scaling.invocations_per_minute(counts, now=now)
        served = sum(row.invocations for row in stats)
        latency_sum = sum(row.latency_ms * row.invocations for row in stats)
        latency_ms = latency_sum / served if served else 0.0
        return {
            "Invocations": rate,
            "InvocationsPerInstance": rate / max(current, 1),
            "ModelLatency": latency_ms * 1000,
        }


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    config = settings()
    supervisor = Supervisor(ServingState.from_url(config.redis_url), logs_dir=config.logs_dir)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    log.info("serving supervisor watching %s", config.redis_url)
    supervisor.run(stop)


if __name__ == "__main__":
    main()
