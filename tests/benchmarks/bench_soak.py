"""Soak: invoke traffic at a share of the measured capacity for a long while, with a training job
and a batch transform job every few minutes, on the whole stack (``manage.py stack``).

    .venv/bin/python -m tests.benchmarks.bench_soak [--minutes 30] [--load 0.5] [--job-every 3]

One run starts the stack in a fresh DATA_DIR, deploys a small LightGBM endpoint on one instance,
then:

- capacity: ``--clients`` closed-loop callers send ``--capacity-requests`` one-record CSV invokes
  (SigV4-signed, keep-alive, as ``bench_endpoints`` sends them): requests/s, measured again
  after the soak to show how far the machine's other load moved it;
- warm-up: one training job and one transform job (what later rounds reuse gets imported);
- soak: an open-loop load of ``--load`` x capacity for ``--minutes``: requests leave on a fixed
  schedule whatever the answers, and a latency counts from the request's scheduled start, so a
  stall shows as latency, not as fewer requests. A training job and a transform job start
  together every ``--job-every`` minutes (the first half an interval in) and must end Completed;
- every 10 s, the RSS of every process of the stack (its processes are those whose DATA_DIR is
  the stack's, as ``tests/faults`` finds them), summed by role.

It prints the capacity, per minute the requests, p50/p99 and errors, each role's RSS at start,
max and end, the jobs' outcomes, and a verdict per goal. The machine's other load (its load
average is printed per minute) shows in the figures: run it on an idle machine for numbers to
quote.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from tests.benchmarks.bench_endpoints import Connection, measure, signed
from tests.faults.conftest import stack_processes
from tests.infra.serving.conftest import csv_row, train_lightgbm
from tests.stack import Stack, channels, running_stack, training_bucket

MIB = 1024 * 1024
SAMPLE_EVERY_S = 10
RESIGN_EVERY_S = 300  # a SigV4 signature stays valid for 15 minutes
MAX_IN_FLIGHT = 512  # past this the server has stalled: a request that cannot leave is an error
REQUEST_TIMEOUT_S = 70
JOB_TIMEOUT_S = 600
FLAT_GROWTH = 0.10
P99_RATIO = 1.5
ROLE = "arn:aws:iam::000000000000:role/sagebrush"

# Each process of the stack by what its command line holds, first match first; a process that
# matches none (a web worker, Redis's server binary, a Celery pool child) takes its parent's role.
ROLES = (
    ("web", "-m infra.web"),
    ("redis", "valkey"),
    ("prefect", "prefect server start"),
    ("flows serve", "-m flows.serve"),
    ("serving supervisor", "-m infra.serving.supervisor"),
    ("endpoint instance", "infra.serving.worker"),
    ("celery worker", "infra.celery worker"),
    ("stack (honcho)", "manage.py stack"),
)
# Below flows.serve's own helpers (its forkserver, resource tracker): the flow runs, forked for
# each job, and the Dask workers of their LocalClusters. They come and go with the jobs.
JOBS = "job runs + Dask"
NOT_SENT = f"not sent: {MAX_IN_FLIGHT} requests in flight"


# ---- memory by role ------------------------------------------------------------------------


def roles_rss(data_dir: Path) -> dict[str, tuple[int, int]]:
    """``{role: (processes, RSS bytes)}`` of the stack's live processes: those whose DATA_DIR
    is the stack's, and their descendants (Redis's server binary starts with a clean
    environment)."""
    found = {}
    processes = {}
    for process in stack_processes(data_dir, lambda cmdline: True):
        with contextlib.suppress(Exception):
            for member in [process, *process.children(recursive=True)]:
                processes[member.pid] = member
    for process in processes.values():
        with contextlib.suppress(Exception):  # gone meanwhile
            found[process.pid] = (
                " ".join(process.cmdline()),
                process.ppid(),
                process.memory_info().rss,
            )

    def own(pid: int) -> str | None:
        return next((role for role, marker in ROLES if marker in found[pid][0]), None)

    def role(pid: int) -> str:
        if matched := own(pid):
            return matched
        parent = found[pid][1]
        if parent not in found:
            return "other"
        above = role(parent)
        if above == "flows serve" and own(parent) != "flows serve":
            return JOBS
        return above

    totals: dict[str, tuple[int, int]] = {}
    for pid, (_, _, rss) in found.items():
        count, total = totals.get(role(pid), (0, 0))
        totals[role(pid)] = (count + 1, total + rss)
    return totals


class MemorySampler:
    """Samples ``roles_rss`` every ``SAMPLE_EVERY_S`` in a thread: ``(time.monotonic(), roles)``."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.samples: list[tuple[float, dict[str, tuple[int, int]]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            self.samples.append((time.monotonic(), roles_rss(self.data_dir)))
            if self._stop.wait(SAMPLE_EVERY_S):
                return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


# ---- the open-loop invoke load -------------------------------------------------------------


@dataclass
class Minute:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    load_average: float = 0.0


class OpenLoad:
    """Invokes at ``rate`` per second on a fixed schedule, each on an idle keep-alive connection
    or a new one; latencies and errors by minute since the start."""

    def __init__(self, port: int, sign, rate: float) -> None:
        self.port, self.sign, self.rate = port, sign, rate
        self.minutes: dict[int, Minute] = defaultdict(Minute)
        self.error_kinds: Counter[str] = Counter()
        self.most_in_flight = 0
        self.connections_opened = 0

    async def run(self, seconds: float) -> None:
        from infra.web import KEEP_ALIVE_SECONDS

        idle: list[tuple[float, Connection]] = []  # (last used, connection), the freshest last
        pending: set[asyncio.Task] = set()
        raw, signed_at = self.sign(), time.monotonic()
        started, sent = time.monotonic(), 0

        async def one(scheduled: float) -> None:
            minute = self.minutes[int((scheduled - started) // 60)]
            connection = None
            try:
                while idle and time.monotonic() - idle[0][0] > KEEP_ALIVE_SECONDS / 2:
                    idle.pop(0)[1].writer.close()  # before the server closes it under us
                if idle:
                    connection = idle.pop()[1]
                else:
                    connection = await Connection.open(self.port)
                    self.connections_opened += 1
                status, answer = await asyncio.wait_for(connection.post(raw), REQUEST_TIMEOUT_S)
            except (TimeoutError, asyncio.IncompleteReadError, OSError) as error:
                status, answer = 0, repr(error).encode()
            minute.latencies.append(time.monotonic() - scheduled)
            if status == 200:
                idle.append((time.monotonic(), connection))
                return
            if connection is not None:
                connection.writer.close()
            self.error(minute, f"{status} {answer[:120]!r}")

        while (now := time.monotonic()) - started < seconds:
            if now - signed_at > RESIGN_EVERY_S:
                raw, signed_at = self.sign(), now
            self.minutes[int((now - started) // 60)].load_average = os.getloadavg()[0]
            while sent < int((now - started) * self.rate):
                scheduled, sent = started + sent / self.rate, sent + 1
                if len(pending) >= MAX_IN_FLIGHT:
                    minute = self.minutes[int((scheduled - started) // 60)]
                    self.error(minute, NOT_SENT)
                    continue
                task = asyncio.create_task(one(scheduled))
                pending.add(task)
                task.add_done_callback(pending.discard)
            self.most_in_flight = max(self.most_in_flight, len(pending))
            await asyncio.sleep(0.002)
        await asyncio.gather(*pending)
        for _, connection in idle:
            connection.writer.close()

    def error(self, minute: Minute, what: str) -> None:
        minute.errors += 1
        self.error_kinds[what] += 1


# ---- the stack's endpoint and jobs ---------------------------------------------------------


def deploy(stack: Stack, scratch: Path) -> bytes:
    """The endpoint ``soak`` (a small LightGBM model, one instance) in service, rows to score
    under ``s3://soak/score/``; returns one CSV record to invoke with."""
    from algorithms.artifacts import pack_model

    model_dir, rows = train_lightgbm(scratch / "model", rounds=50)
    stack.store.create_bucket("soak")
    stack.store.upload_file(
        str(pack_model(model_dir, scratch / "model.tar.gz")), "s3://soak/model/model.tar.gz"
    )
    lines = b"".join(csv_row(row) + b"\n" for row in rows)
    for part in range(2):
        stack.store.write_bytes(f"s3://soak/score/part-{part}.csv", lines * 50)
    sm = stack.sagemaker
    sm.create_model(
        ModelName="soak",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": "lightgbm", "ModelDataUrl": "s3://soak/model/model.tar.gz"},
    )
    sm.create_endpoint_config(
        EndpointConfigName="soak",
        ProductionVariants=[{"VariantName": "main", "ModelName": "soak",
                             "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
    )  # fmt: skip
    sm.create_endpoint(EndpointName="soak", EndpointConfigName="soak")
    sm.get_waiter("endpoint_in_service").wait(
        EndpointName="soak", WaiterConfig={"Delay": 1, "MaxAttempts": 240}
    )
    return csv_row(rows[0])


@dataclass
class JobOutcome:
    round: int
    at_min: float
    kind: str
    name: str
    status: str
    seconds: float
    reason: str = ""


def job_round(stack: Stack, number: int, at_min: float, bucket: str) -> list[JobOutcome]:
    """A small training job and a small transform job, started together, until both end."""
    sm = stack.sagemaker
    training, transform = f"soak-train-{number}", f"soak-transform-{number}"
    started = time.monotonic()
    sm.create_training_job(
        TrainingJobName=training,
        RoleArn=ROLE,
        AlgorithmSpecification={"TrainingImage": "lightgbm", "TrainingInputMode": "File"},
        HyperParameters={"objective": "binary", "num_boost_round": "20", "num_threads": "1"},
        InputDataConfig=channels(bucket),
        OutputDataConfig={"S3OutputPath": f"s3://{bucket}/models"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        StoppingCondition={"MaxRuntimeInSeconds": JOB_TIMEOUT_S},
    )
    sm.create_transform_job(
        TransformJobName=transform,
        ModelName="soak",
        TransformInput={
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://soak/score/"}},
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        TransformOutput={"S3OutputPath": f"s3://soak/scored/{number}/", "AssembleWith": "Line"},
        TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 1},
    )
    waiting = {
        ("training", training): lambda: _ended(
            sm.describe_training_job(TrainingJobName=training), "TrainingJobStatus"
        ),
        ("transform", transform): lambda: _ended(
            sm.describe_transform_job(TransformJobName=transform), "TransformJobStatus"
        ),
    }
    outcomes = []
    while waiting:
        for (kind, name), describe in list(waiting.items()):
            ended = describe()
            elapsed = time.monotonic() - started
            if ended or elapsed > JOB_TIMEOUT_S:
                status, reason = ended or ("still running", f"after {JOB_TIMEOUT_S} s")
                outcomes.append(JobOutcome(number, at_min, kind, name, status, elapsed, reason))
                del waiting[(kind, name)]
        time.sleep(1)
    return outcomes


def _ended(described: dict, status_field: str) -> tuple[str, str] | None:
    status = described[status_field]
    if status in ("Completed", "Failed", "Stopped"):
        return status, described.get("FailureReason", "")
    return None


def job_rounds(stack, bucket, *, began, minutes, every, outcomes) -> None:
    """A job round every ``every`` minutes of the soak, the first half an interval in; each
    round's outcomes appended to ``outcomes``."""
    number, at_min = 1, every / 2
    while at_min < minutes:
        time.sleep(max(0.0, began + at_min * 60 - time.monotonic()))
        try:
            outcomes.extend(job_round(stack, number, at_min, bucket))
        except Exception as error:  # a refused create or a lost describe: the round's outcome
            outcomes.append(JobOutcome(number, at_min, "round", "-", "error", 0.0, repr(error)))
        number, at_min = number + 1, at_min + every


# ---- the run and its report ----------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=30)
    parser.add_argument("--load", type=float, default=0.5, help="share of the measured capacity")
    parser.add_argument("--job-every", type=float, default=3, help="minutes between job rounds")
    parser.add_argument("--clients", type=int, default=16, help="callers measuring capacity")
    parser.add_argument("--capacity-requests", type=int, default=10000)
    args = parser.parse_args()
    print(f"{len(os.sched_getaffinity(0))} cores; load average {_load()} before the stack starts")
    with tempfile.TemporaryDirectory(prefix="sagebrush-soak-") as scratch, running_stack() as stack:
        sampler = MemorySampler(stack.data_dir)
        body = deploy(stack, Path(scratch))
        port = int(stack.url.rsplit(":", 1)[1])

        def sign() -> bytes:
            return signed(port, "soak", body, stack.access_key_id, stack.secret_access_key)

        capacity = measure_capacity(port, sign(), args, "capacity")
        bucket = training_bucket(stack, "soak", train=2000, validation=500, seed=3)
        warm_up = job_round(stack, 0, 0.0, bucket)
        rate = args.load * capacity["per_s"]
        print(
            f"soak: {args.minutes} min of open-loop invokes at {args.load:.0%} of capacity = "
            f"{rate:.0f}/s; a training and a transform job every {args.job_every:g} min",
            flush=True,
        )
        load, outcomes = OpenLoad(port, sign, rate), []
        began = time.monotonic()
        jobs = threading.Thread(
            target=job_rounds,
            args=(stack, bucket),
            kwargs={"began": began, "minutes": args.minutes, "every": args.job_every,
                    "outcomes": outcomes},
        )  # fmt: skip
        jobs.start()
        asyncio.run(load.run(args.minutes * 60))
        ended = time.monotonic()
        print(f"load average at the end of the soak: {_load()}", flush=True)
        jobs.join()
        # Again once the soak is over: how far the machine's other load moved the capacity.
        measure_capacity(port, sign(), args, "capacity after the soak")
        sampler.stop()
    soak = [(at - began, roles) for at, roles in sampler.samples if began <= at <= ended]
    report(args, capacity, load, soak, warm_up, outcomes)


def measure_capacity(port: int, raw: bytes, args, what: str) -> dict:
    """Closed-loop invokes/s (``bench_endpoints.measure``), printed with the load average."""
    result = asyncio.run(measure(port, raw, requests=args.capacity_requests, clients=args.clients))
    print(
        f"{what}: {result['per_s']:.0f} invokes/s with {args.clients} closed-loop callers "
        f"(p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
        f"{result['failures']} failed); load average {_load()}",
        flush=True,
    )
    return result


def _load() -> str:
    return ", ".join(f"{value:.1f}" for value in os.getloadavg())


def p99(latencies: list[float]) -> float:
    if not latencies:
        return float("nan")
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


def report(args, capacity, load: OpenLoad, soak, warm_up, outcomes) -> None:
    print(f"\n{'minute':>6}{'requests':>10}{'/s':>7}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
          f"{'load avg':>10}")  # fmt: skip
    for number in range(args.minutes):
        minute = load.minutes[number]
        if minute.latencies:
            median = statistics.median(minute.latencies) * 1000
            print(f"{number + 1:>6}{len(minute.latencies):>10}{len(minute.latencies) / 60:>7.0f}"
                  f"{median:>9.1f}{p99(minute.latencies):>9.1f}{minute.errors:>8}"
                  f"{minute.load_average:>10.1f}")  # fmt: skip
    print(f"client: at most {load.most_in_flight} requests in flight, "
          f"{load.connections_opened} connections opened")  # fmt: skip
    for error, count in load.error_kinds.most_common(5):
        print(f"  {count} x {error}")

    growths = memory_table(args.minutes, soak)
    print("\njobs (a training and a transform job per round, started together):")
    for job in [*warm_up, *outcomes]:
        when = "warm-up" if job.round == 0 else f"at {job.at_min:g} min"
        reason = f" ({job.reason})" if job.reason else ""
        print(f"  round {job.round} {when}: {job.kind} {job.name} {job.status} "
              f"in {job.seconds:.0f} s{reason}")  # fmt: skip

    flat_roles = {role: growth for role, growth in growths.items() if role != JOBS}
    worst = max(flat_roles, key=flat_roles.get)
    errors = sum(minute.errors for minute in load.minutes.values())
    unsent = load.error_kinds[NOT_SENT]
    failed_jobs = [job.name for job in [*warm_up, *outcomes] if job.status != "Completed"]
    window = max(1, min(5, args.minutes // 2))
    first = [lat for n in range(window) for lat in load.minutes[n].latencies]
    last = [lat for n in range(args.minutes - window, args.minutes)
            for lat in load.minutes[n].latencies]  # fmt: skip
    ratio = p99(last) / p99(first)
    print("\nverdicts:")
    print(f"  memory flat (each long-lived role's RSS at the end <= {1 + FLAT_GROWTH:.2f} x at "
          f"the start): {_verdict(flat_roles[worst] <= FLAT_GROWTH)} "
          f"(largest growth: {worst} {flat_roles[worst]:+.1%})")  # fmt: skip
    print(f"  no error (every invoke answered 200, every job Completed): "
          f"{_verdict(not errors and not failed_jobs)} ({errors - unsent} invokes failed, "
          f"{unsent} not sent while {MAX_IN_FLIGHT} were in flight, "
          f"{len(failed_jobs)} of {len(warm_up) + len(outcomes)} jobs not Completed)")  # fmt: skip
    print(f"  p99 stable (p99 of the last {window} min <= {P99_RATIO} x p99 of the first "
          f"{window} min): {_verdict(ratio <= P99_RATIO)} "
          f"({p99(last):.1f} ms vs {p99(first):.1f} ms, {ratio:.2f} x)")  # fmt: skip


def memory_table(minutes: int, soak) -> dict[str, float]:
    """Print each role's RSS at the start (median of the soak's first minute of samples), max and
    end (median of its last minute); returns each role's growth from start to end. ``soak``:
    ``(seconds since the soak began, roles)``."""
    start = [roles for at, roles in soak if at < 60]
    end = [roles for at, roles in soak if at >= minutes * 60 - 60]
    print(f"\nRSS by role, MB ({len(soak)} samples, one per {SAMPLE_EVERY_S} s; start and end: "
          f"median of the first and of the last minute's samples)")  # fmt: skip
    print(f"{'role':<20}{'procs':>6}{'start':>9}{'max':>9}{'end':>9}{'growth':>9}")
    growths = {}
    seen = {role for _, roles in soak for role in roles}
    every_role = [role for role in [*(role for role, _ in ROLES), JOBS, "other"] if role in seen]
    for role in every_role:

        def rss(window, role=role):
            return statistics.median(roles.get(role, (0, 0))[1] for roles in window) / MIB

        peak = max(roles.get(role, (0, 0))[1] for _, roles in soak) / MIB
        procs = max(roles.get(role, (0, 0))[0] for _, roles in soak)
        if role == JOBS:  # no process of theirs lives from start to end
            print(f"{role:<20}{procs:>6}{'':>9}{peak:>9.0f}{'':>9}{'(transient)':>12}")
            continue
        before, after = rss(start), rss(end)
        growths[role] = (after - before) / before if before else float("inf")
        print(f"{role:<20}{procs:>6}{before:>9.0f}{peak:>9.0f}{after:>9.0f}"
              f"{growths[role]:>+9.1%}")  # fmt: skip
    return growths


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


if __name__ == "__main__":
    main()
