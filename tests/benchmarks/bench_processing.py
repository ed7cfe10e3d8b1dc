"""Processing overhead, instance scaling and the sandbox's start-up cost.

Run on demand (the suite does not): ``.venv/bin/python -m tests.benchmarks.bench_processing``.
One run, one machine, printed side by side:

  overhead  a processing job whose script does nothing, from ``create_processing_job`` on the
            running stack (``manage.py stack``) until Describe says Completed, against running
            the same script directly (``python3 empty.py``). Goal: <= 2 s of platform overhead.
  scaling   a script that does a fixed amount of CPU work per input object, over 40 objects
            given ``ShardedByS3Key``, on 2 instances against 1 (create to Completed).
            Goal: >= 1.7 x. Needs two free cores to mean anything.
  sandbox   starting ``true`` in the job sandbox against starting it plainly: the sandbox's own
            cost per instance of a job.

``--rounds`` repeats each measurement; each side's best and median are printed.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
CODE = "/opt/ml/processing/input/code"
EMPTY = "pass\n"
# A fixed amount of CPU work per object (about half a second of one core here).
WORK = """
import os, time
folder = "/opt/ml/processing/input/data"
for name in sorted(os.listdir(folder)):
    total = 0
    for n in range(1_500_000):
        total += n * n
    open(os.path.join("/opt/ml/processing/output", name), "w").write(str(total))
"""
OBJECTS = 40


def request(name: str, script: str, *, instances: int = 1, data: bool = False) -> dict:
    inputs = [
        {
            "InputName": "code",
            "S3Input": {
                "S3Uri": f"s3://bench/code/{script}",
                "LocalPath": CODE,
                "S3DataType": "S3Prefix",
                "S3InputMode": "File",
                "S3DataDistributionType": "FullyReplicated",
            },
        }
    ]
    outputs = []
    if data:
        inputs.append(
            {
                "InputName": "data",
                "S3Input": {
                    "S3Uri": "s3://bench/objects/",
                    "LocalPath": "/opt/ml/processing/input/data",
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                    "S3DataDistributionType": "ShardedByS3Key",
                },
            }
        )
        outputs.append(
            {
                "OutputName": "output",
                "S3Output": {
                    "S3Uri": f"s3://bench/out/{name}",
                    "LocalPath": "/opt/ml/processing/output",
                    "S3UploadMode": "EndOfJob",
                },
            }
        )
    return {
        "ProcessingJobName": name,
        "RoleArn": "arn:aws:iam::000000000000:role/bench",
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": instances,
                "InstanceType": "ml.m5.large",
                "VolumeSizeInGB": 1,
            }
        },
        "AppSpecification": {
            "ImageUri": SKLEARN_IMAGE,
            "ContainerEntrypoint": ["python3", f"{CODE}/{script}"],
        },
        "ProcessingInputs": inputs,
        "ProcessingOutputConfig": {"Outputs": outputs},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }


def run_job(sm, spec: dict) -> float:
    """Seconds from the create call to Describe saying Completed."""
    started = time.perf_counter()
    sm.create_processing_job(**spec)
    while True:
        described = sm.describe_processing_job(ProcessingJobName=spec["ProcessingJobName"])
        status = described["ProcessingJobStatus"]
        if status == "Completed":
            return time.perf_counter() - started
        if status in ("Failed", "Stopped"):
            raise SystemExit(f"{spec['ProcessingJobName']} ended {status}: {described}")
        time.sleep(0.05)


def run_direct(script: Path) -> float:
    started = time.perf_counter()
    subprocess.run(["python3", str(script)], check=True)
    return time.perf_counter() - started


def sandbox_startup(rounds: int) -> tuple[list[float], list[float]]:
    """Seconds to start and end ``true`` plainly and in the sandbox, ``rounds`` times each."""
    from algorithms.sandbox import Sandbox, base_environment, instance_limits, sandbox_status

    if not sandbox_status().available:
        raise SystemExit(f"no sandbox on this machine: {sandbox_status().reason}")
    plain, boxed = [], []
    with tempfile.TemporaryDirectory() as scratch:
        sandbox = Sandbox(
            root=Path(scratch) / "ml",
            tmp=Path(scratch) / "tmp",
            environment=base_environment(),
            limits=instance_limits("ml.m5.large"),
        )
        sandbox.prepare()
        for _ in range(rounds):
            started = time.perf_counter()
            subprocess.run(["true"], check=True)
            plain.append(time.perf_counter() - started)
            started = time.perf_counter()
            subprocess.run(sandbox.command(["true"]), env=sandbox.host_env(), check=True)
            boxed.append(time.perf_counter() - started)
    return plain, boxed


def summary(label: str, values: list[float]) -> str:
    return f"{label:<28} best {min(values):7.3f} s   median {statistics.median(values):7.3f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    plain, boxed = sandbox_startup(max(args.rounds, 20))
    print(summary("start `true` plainly", plain))
    print(summary("start `true` in the sandbox", boxed))
    print(f"sandbox start-up cost: {min(boxed) - min(plain):.3f} s per instance (best - best)")

    from tests.stack import running_stack

    with tempfile.TemporaryDirectory() as scratch, running_stack() as stack:
        empty = Path(scratch) / "empty.py"
        empty.write_text(EMPTY)
        stack.store.create_bucket("bench")
        stack.store.write_bytes("s3://bench/code/empty.py", EMPTY.encode())
        stack.store.write_bytes("s3://bench/code/work.py", WORK.encode())
        for n in range(OBJECTS):
            stack.store.write_bytes(f"s3://bench/objects/part-{n:02d}.txt", b"x\n")
        sm = stack.sagemaker
        run_job(sm, request("warm-up", "empty.py"))  # the first run imports what later ones reuse

        direct, platform = [], []
        for round_ in range(args.rounds):
            direct.append(run_direct(empty))
            platform.append(run_job(sm, request(f"empty-{round_}", "empty.py")))
        print(summary("empty script, direct", direct))
        print(summary("empty script, platform", platform))
        overhead = min(platform) - min(direct)
        verdict = "met" if overhead <= 2 else "missed"
        print(f"platform overhead: {overhead:.2f} s (goal <= 2 s: {verdict})")

        one, two = [], []
        for round_ in range(args.rounds):
            one.append(run_job(sm, request(f"one-{round_}", "work.py", instances=1, data=True)))
            two.append(run_job(sm, request(f"two-{round_}", "work.py", instances=2, data=True)))
        print(summary(f"{OBJECTS} objects, 1 instance", one))
        print(summary(f"{OBJECTS} objects, 2 instances", two))
        speedup = min(one) / min(two)
        print(f"speed-up: {speedup:.2f} x (goal >= 1.7 x: {'met' if speedup >= 1.7 else 'missed'})")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
