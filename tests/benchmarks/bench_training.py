"""Training overhead: LightGBM on its own against the same training run as a platform job.

Run on demand (the suite does not): ``.venv/bin/python -m tests.benchmarks.bench_training``.
One run, one machine, printed side by side:

  direct    LightGBM reads the CSV itself (``lgb.Dataset(path)``) and trains;
  platform  ``create_training_job`` on the running stack (``manage.py stack``) until Completed,
            measured from the create call to the job's end as boto3 sees it.

Both use the same hyperparameters and thread count. Goal: platform <= 1.15 x direct + 3 s.
It also prints how long the job waited before its flow run began (create -> Downloading).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

FEATURES = 20
ROUNDS = 100
PARAMS = {"objective": "binary", "learning_rate": 0.1, "num_leaves": 31, "verbose": -1}


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


def train_on_platform(path: Path, threads: int) -> tuple[float, float, dict]:
    from tests.e2e.conftest import running_stack

    with running_stack() as stack:
        stack.store.create_bucket("bench")
        stack.store.upload_file(str(path), "s3://bench/train/data.csv")
        sm = stack.sagemaker
        started = time.perf_counter()
        sm.create_training_job(
            TrainingJobName="bench-lightgbm",
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
            ResourceConfig={
                "InstanceType": "ml.m5.xlarge",
                "InstanceCount": 1,
                "VolumeSizeInGB": 5,
            },
            StoppingCondition={"MaxRuntimeInSeconds": 3600},
        )
        while True:
            job = sm.describe_training_job(TrainingJobName="bench-lightgbm")
            if job["TrainingJobStatus"] in ("Completed", "Failed", "Stopped"):
                break
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
        if job["TrainingJobStatus"] != "Completed":
            raise SystemExit(f"the platform job ended {job['TrainingJobStatus']}: {job}")
        transitions = {t["Status"]: t["StartTime"] for t in job["SecondaryStatusTransitions"]}
        start_latency = (transitions["Downloading"] - job["CreationTime"]).total_seconds()
        phases = {
            t["Status"]: (t["EndTime"] - t["StartTime"]).total_seconds()
            for t in job["SecondaryStatusTransitions"]
            if "EndTime" in t
        }
        return elapsed, start_latency, phases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-training-") as scratch:
        path = Path(scratch) / "train.csv"
        write_csv(path, args.rows)
        size_mb = path.stat().st_size / 1e6
        print(
            f"data: {args.rows:,} rows x {FEATURES} features, {size_mb:.0f} MB CSV; "
            f"{ROUNDS} rounds, {args.threads} threads"
        )
        direct = train_direct(path, args.threads)
        platform, start_latency, phases = train_on_platform(path, args.threads)
    goal = 1.15 * direct + 3
    print(f"direct LightGBM (reads the CSV itself):  {direct:8.1f} s")
    print(f"platform training job (create -> done):  {platform:8.1f} s")
    print(f"  of which waiting for the flow run:      {start_latency:8.1f} s")
    for phase, seconds in phases.items():
        print(f"  {phase:<38} {seconds:8.1f} s")
    print(f"ratio platform / direct:                 {platform / direct:8.2f}")
    verdict = "met" if platform <= goal else "NOT met"
    print(f"goal platform <= 1.15 x direct + 3 s = {goal:.1f} s: {verdict}")


if __name__ == "__main__":
    main()
