"""Pipeline orchestration overhead and a cached re-run, on the running stack.

Run on demand (the suite does not): ``.venv/bin/python -m tests.benchmarks.bench_pipelines``.
Starts ``manage.py stack`` on free ports, creates a 6-step pipeline of small LightGBM training
jobs shaped A → (B, C) → D → (E, F), and runs it twice:

  first   each step's own job time (the job's creation to its end), the execution's wall time
          (StartPipelineExecution to Succeeded), the critical path of job times (A, the longer
          of B and C, D, the longer of E and F) and the orchestration overhead:
          (wall - critical path) / 6 steps. Goal: <= 1 s per step.
  cached  the same execution again with every step's CacheConfig on and unchanged arguments:
          wall time to Succeeded. Goal: <= 3 s.
"""

from __future__ import annotations

import argparse
import json
import time

ROLE = "arn:aws:iam::000000000000:role/sagebrush"
SHAPE = {"A": [], "B": ["A"], "C": ["A"], "D": ["B", "C"], "E": ["D"], "F": ["D"]}


def definition(bucket: str) -> dict:
    def step(name: str, after: list[str]) -> dict:
        return {
            "Name": name,
            "Type": "Training",
            "DependsOn": after,
            "CacheConfig": {"Enabled": True, "ExpireAfter": "PT1H"},
            "Arguments": {
                "AlgorithmSpecification": {
                    "TrainingImage": "lightgbm",
                    "TrainingInputMode": "File",
                },
                "RoleArn": ROLE,
                "HyperParameters": {"num_boost_round": "3", "objective": "binary"},
                "InputDataConfig": [
                    {
                        "ChannelName": channel,
                        "ContentType": "text/csv",
                        "DataSource": {
                            "S3DataSource": {
                                "S3DataType": "S3Prefix",
                                "S3Uri": f"s3://{bucket}/{channel}/",
                            }
                        },
                    }
                    for channel in ("train", "validation")
                ],
                "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/bench-{name}"},
                "ResourceConfig": {
                    "InstanceType": "ml.m5.large",
                    "InstanceCount": 1,
                    "VolumeSizeInGB": 1,
                },
                "StoppingCondition": {"MaxRuntimeInSeconds": 300},
            },
        }

    return {"Version": "2020-12-01", "Steps": [step(n, after) for n, after in SHAPE.items()]}


def run(sm, name: str) -> tuple[float, str]:
    started = time.monotonic()
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    while True:
        status = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
        if status["PipelineExecutionStatus"] not in ("Executing", "Stopping"):
            break
        time.sleep(0.1)
    wall = time.monotonic() - started
    if status["PipelineExecutionStatus"] != "Succeeded":
        raise SystemExit(f"execution ended {status['PipelineExecutionStatus']}: {status}")
    return wall, arn


def job_times(sm, arn: str) -> dict[str, float]:
    times = {}
    for step in sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)[
        "PipelineExecutionSteps"
    ]:
        job_name = step["Metadata"]["TrainingJob"]["Arn"].rpartition("/")[2]
        found = [
            j
            for j in sm.list_training_jobs(MaxResults=100)["TrainingJobSummaries"]
            if j["TrainingJobName"].lower() == job_name
        ]
        job = sm.describe_training_job(TrainingJobName=found[0]["TrainingJobName"])
        times[step["StepName"]] = (job["TrainingEndTime"] - job["CreationTime"]).total_seconds()
    return times


def critical_path(times: dict[str, float]) -> float:
    finish: dict[str, float] = {}
    for name, after in SHAPE.items():
        finish[name] = max((finish[a] for a in after), default=0.0) + times[name]
    return max(finish.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1, help="how many first/cached pairs")
    args = parser.parse_args()
    from tests.stack import running_stack, training_bucket

    with running_stack() as stack:
        sm = stack.sagemaker
        bucket = training_bucket(stack, "bench", train=400, validation=100, seed=11)
        for index in range(args.rounds):
            name = f"bench-{index}"
            bucket_round = (
                bucket
                if index == 0
                else training_bucket(
                    stack, f"bench{index}", train=400, validation=100, seed=11 + index
                )
            )
            sm.create_pipeline(
                PipelineName=name,
                PipelineDefinition=json.dumps(definition(bucket_round)),
                RoleArn=ROLE,
                ClientRequestToken=f"{index:032d}",
            )
            wall, arn = run(sm, name)
            times = job_times(sm, arn)
            path = critical_path(times)
            overhead = (wall - path) / len(SHAPE)
            print("step job times (s): " + ", ".join(f"{k} {v:.2f}" for k, v in times.items()))
            print(
                f"first run: wall {wall:.2f} s, critical path {path:.2f} s, "
                f"overhead {overhead:.2f} s per step (goal <= 1 s)"
            )
            cached_wall, cached_arn = run(sm, name)
            steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=cached_arn)
            hits = sum("CacheHitResult" in s for s in steps["PipelineExecutionSteps"])
            print(
                f"cached re-run: wall {cached_wall:.2f} s, {hits} of 6 steps cached (goal <= 3 s)"
            )


if __name__ == "__main__":
    main()
