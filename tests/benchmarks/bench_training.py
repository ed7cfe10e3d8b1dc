"""Training overhead: LightGBM on its own against the same training run as a platform job.

Run on demand (the suite does not): ``.venv/bin/python -m tests.benchmarks.bench_training``.
One run, one machine, printed side by side:

  direct    LightGBM reads the CSV itself (``lgb.Dataset(path)``) and trains;
  platform  ``create_training_job`` on the running stack (``manage.py stack``) until Completed,
            measured from the create call to the job's TrainingEndTime.

Both use the same hyperparameters and thread count, and both run while the stack is up (idle
between jobs), in alternating rounds so that a drift in the machine's speed reaches both. Each
side's best round and the median are printed; the goal compares best with best:
platform <= 1.15 x direct + 3 s. Each platform round also prints where its time went: waiting for
the flow run (create -> Downloading), the job's phases, and the timings its log reports.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

FEATURES = 20
ROUNDS = 100
PARAMS = {"objective": "binary", "learning_rate": 0.1, "num_leaves": 31, "verbose": -1}
# Log lines of the job that say how long a step took.
TIMING_LOG = ("Read ", "Training finished")


def write_csv(path: Path, rows: int, *, seed: int = 0) -> None:
    """Label in column 0, no header: what both paths read."""
    rng = np.random.default_rng(seed)
    chunk = 100_000
    with path.open("w") as out:
        for start in range(0, rows, chunk):
            features = rng.normal(size=(min(chunk, rows - start), FEATURES))
            labels = features[:, :3].sum(axis=1) + 0.3 * rng.normal(size=len(features)) > 0
            block = np.column_stack([labels.astype(int), features])
            np.savetxt(out, block, delimiter=",", fmt=["%d"] + ["%.6f"] * FEATURES)


def train_direct(path: Path, threads: int) -> float:
    import lightgbm as lgb

    started = time.perf_counter()
    dataset = lgb.Dataset(str(path), params={"header": False, "label_column": "0", "verbose": -1})
    lgb.train({**PARAMS, "num_threads": threads}, dataset, num_boost_round=ROUNDS)
    return time.perf_counter() - started


def train_on_platform(stack, name: str, threads: int) -> tuple[float, str]:
    """One training job on the data uploaded to ``s3://bench/train/``: its time, and a line of
    where that time went."""
    sm = stack.sagemaker
    started = datetime.now(UTC)
    sm.create_training_job(
        TrainingJobName=name,
        RoleArn="arn:aws:iam::000000000000:role/sagebrush",
        AlgorithmSpecification={"TrainingImage": "lightgbm", "TrainingInputMode": "File"},
        HyperParameters={
            "num_boost_round": str(ROUNDS),
            "objective": "binary",
            "learning_rate": "0.1",
            "num_leaves": "31",
            "num_threads": str(threads),
        },
        InputDataConfig=[
            {
                "ChannelName": "train",
                "ContentType": "text/csv",
                "DataSource": {
                    "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bench/train/"}
                },
            }
        ],
        OutputDataConfig={"S3OutputPath": "s3://bench/models"},
        ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 5},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
    )
    while True:  # calm polling: the end is read from the job, not from when a poll saw it
        job = sm.describe_training_job(TrainingJobName=name)
        if job["TrainingJobStatus"] in ("Completed", "Failed", "Stopped"):
            break
        time.sleep(1)
    if job["TrainingJobStatus"] != "Completed":
        raise SystemExit(f"the platform job ended {job['TrainingJobStatus']}: {job}")
    elapsed = (job["TrainingEndTime"] - started).total_seconds()
    transitions = job["SecondaryStatusTransitions"]
    waited = (transitions[1]["StartTime"] - started).total_seconds()  # [0] is Starting
    phases = [
        f"{t['Status']} {(t['EndTime'] - t['StartTime']).total_seconds():.1f} s"
        for t in transitions[1:]
        if "EndTime" in t
    ]
    return elapsed, "; ".join([f"waited {waited:.1f} s", *phases, *_timing_lines(stack, name)])


def _timing_lines(stack, name: str) -> list[str]:
    from tests.stack import _manage

    log = _manage(
        stack.env,
        "shell",
        "-c",
        "from console.training.models import TrainingJob\n"
        "from console.training.selectors import training_job_log\n"
        f"print(training_job_log(TrainingJob.objects.get(name={name!r})))",
    )
    return [line for line in log.splitlines() if line.startswith(TIMING_LOG)]


def main() -> None:
    from tests.stack import running_stack

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of each side")
    args = parser.parse_args()
    direct, platform = [], []
    with tempfile.TemporaryDirectory(prefix="bench-training-") as scratch:
        path = Path(scratch) / "train.csv"
        write_csv(path, args.rows)
        size_mb = path.stat().st_size / 1e6
        print(
            f"data: {args.rows:,} rows x {FEATURES} features, {size_mb:.0f} MB CSV; "
            f"{ROUNDS} rounds, {args.threads} threads",
            flush=True,
        )
        with running_stack() as stack:
            stack.store.create_bucket("bench")
            stack.store.upload_file(str(path), "s3://bench/train/data.csv")
            for round_number in range(1, args.rounds + 1):
                direct.append(train_direct(path, args.threads))
                seconds, where = train_on_platform(stack, f"bench-{round_number}", args.threads)
                platform.append(seconds)
                print(
                    f"round {round_number}: direct {direct[-1]:.1f} s, platform {seconds:.1f} s "
                    f"({where})",
                    flush=True,
                )
    best_direct, best_platform = min(direct), min(platform)
    goal = 1.15 * best_direct + 3
    print(
        f"direct LightGBM (reads the CSV itself): best {best_direct:6.1f} s, "
        f"median {statistics.median(direct):6.1f} s"
    )
    print(
        f"platform training job (create -> end):  best {best_platform:6.1f} s, "
        f"median {statistics.median(platform):6.1f} s"
    )
    print(f"ratio platform / direct (best):                {best_platform / best_direct:6.2f}")
    verdict = "met" if best_platform <= goal else "NOT met"
    print(f"goal platform <= 1.15 x direct + 3 s = {goal:.1f} s: {verdict}")


if __name__ == "__main__":
    main()
