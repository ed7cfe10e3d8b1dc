"""The platform after its flows' serve process is killed (kill -9) under running work, then
started again on the same data: the stack ends with it (no orphan trains on), and the next start
ends what was running, keeps what had finished, and reports and resumes a pipeline schedule.

Two starts of the stack in all: every restart check shares them (each start is minutes here)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest

from tests.faults.conftest import flows_serve, report, stack_processes, wait_until
from tests.stack import STACK_START_S, WAIT, channels, running_stack, training_bucket

pytestmark = pytest.mark.e2e

ROLE = "arn:aws:iam::000000000000:role/sagebrush"
METRIC = "validation:binary_logloss"


def prefect_runs(prefect_url: str, query: dict) -> list[dict]:
    request = urllib.request.Request(
        f"{prefect_url}/api/flow_runs/filter",
        data=json.dumps({"limit": 200, **query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def prefect_schedule_slugs(prefect_url: str) -> list[str]:
    with urllib.request.urlopen(
        f"{prefect_url}/api/deployments/name/pipeline-schedule/sagebrush", timeout=30
    ) as response:
        return [held["slug"] for held in json.load(response)["schedules"]]


def training(bucket: str, *, image: str, rounds: int, output: str) -> dict:
    rounds_name = {"xgboost": "num_round", "lightgbm": "num_boost_round"}[image]
    objective = {"xgboost": "binary:logistic", "lightgbm": "binary"}[image]
    return {
        "RoleArn": ROLE,
        "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
        "HyperParameters": {rounds_name: str(rounds), "objective": objective},
        "InputDataConfig": channels(bucket),
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/{output}"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    }


def tuning(bucket: str, name: str) -> dict:
    """One trial at a time, more than can finish before the kill, each a few seconds."""
    trial = training(bucket, image="lightgbm", rounds=5, output="tuning")
    return {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": {
            "Strategy": "Random",
            "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": METRIC},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 20, "MaxParallelTrainingJobs": 1},
            "ParameterRanges": {
                "IntegerParameterRanges": [
                    {"Name": "num_leaves", "MinValue": "2", "MaxValue": "31", "ScalingType": "Auto"}
                ],
            },
        },
        "TrainingJobDefinition": {
            "AlgorithmSpecification": trial["AlgorithmSpecification"],
            "RoleArn": ROLE,
            "StaticHyperParameters": {**trial["HyperParameters"], "num_threads": "1"},
            "InputDataConfig": trial["InputDataConfig"],
            "OutputDataConfig": trial["OutputDataConfig"],
            "ResourceConfig": trial["ResourceConfig"],
            "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        },
    }


def trials_of(sm, name: str) -> list[dict]:
    pages = sm.get_paginator("list_training_jobs_for_hyper_parameter_tuning_job").paginate(
        HyperParameterTuningJobName=name
    )
    return [summary for page in pages for summary in page["TrainingJobSummaries"]]


def completed_trials(sm, name: str) -> dict[str, float]:
    """Each Completed trial's objective metric, by trial name."""
    return {
        trial["TrainingJobName"]: trial["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
        for trial in trials_of(sm, name)
        if trial["TrainingJobStatus"] == "Completed"
    }


def training_jobs(sm, **filters) -> set[str]:
    pages = sm.get_paginator("list_training_jobs").paginate(**filters)
    return {job["TrainingJobName"] for page in pages for job in page["TrainingJobSummaries"]}


def kill_serve_and_wait_for_the_stack_to_end(data_dir: Path, *, bound: float) -> None:
    """kill -9 flows.serve; every process of the stack must end within ``bound`` seconds (honcho
    stops the others when one exits). What outlives it is killed here and named in the failure."""
    [serve] = flows_serve(data_dir)
    os.kill(serve.pid, signal.SIGKILL)
    try:
        wait_until(
            lambda: not stack_processes(data_dir, lambda _cmdline: True),
            timeout=bound,
            what="every process of the stack ending",
            poll=0.2,
        )
    except TimeoutError:
        left = stack_processes(data_dir, lambda _cmdline: True)
        named = [(p.pid, p.ppid(), " ".join(p.cmdline())[:200]) for p in left]
        for process in left:
            process.kill()
        psutil.wait_procs(left, timeout=10)
        pytest.fail(f"processes outlive the stack {bound:.0f} s after serve was killed: {named}")


# Two starts of the stack; in the first, up to three minutes for the job to train and a trial to
# finish, one for the stack to end; at most 91 s down; in the second, the waiter's four minutes
# and two and a half for a scheduled execution.
@pytest.mark.timeout(2 * STACK_START_S + 720)
def test_a_killed_serve_process_ends_the_stack_and_the_next_start_recovers():
    data_dir = Path(tempfile.mkdtemp(prefix="sagebrush-e2e-restart-"))
    scratch = data_dir / "work" / "training"
    try:
        with running_stack(data_dir) as stack:
            sm = stack.sagemaker
            bucket = training_bucket(stack, "restart", train=2_000, validation=500, seed=1)
            step = training(bucket, image="lightgbm", rounds=2, output="pipeline-models")
            sm.create_pipeline(
                PipelineName="nightly",
                PipelineDefinition=json.dumps(
                    {
                        "Version": "2020-12-01",
                        "Steps": [{"Name": "Train", "Type": "Training", "Arguments": step}],
                    }
                ),
                RoleArn=ROLE,
                ClientRequestToken="n" * 32,
            )
            code, body = stack.rest(
                "POST",
                "/api/v1/pipelines/nightly/schedules/",
                {"schedule_name": "minutely", "cron": "* * * * *"},
            )
            assert code == 201, body
            assert prefect_schedule_slugs(stack.prefect_url) != []
            sm.create_hyper_parameter_tuning_job(**tuning(bucket, "kept-trials"))
            cut_short = training(bucket, image="xgboost", rounds=10_000_000, output="output")
            sm.create_training_job(TrainingJobName="cut-short", **cut_short)
            wait_until(
                lambda: (
                    sm.describe_training_job(TrainingJobName="cut-short")["SecondaryStatus"]
                    == "Training"
                    and completed_trials(sm, "kept-trials")
                ),
                timeout=180,
                what="the job training and a trial Completed",
                poll=0.5,
            )
            scratch_before = set(scratch.iterdir())
            assert scratch_before, "a training job works in DATA_DIR/work/training"
            kept = completed_trials(sm, "kept-trials")
            tuning_status = sm.describe_hyper_parameter_tuning_job(
                HyperParameterTuningJobName="kept-trials"
            )["HyperParameterTuningJobStatus"]
            assert tuning_status == "InProgress"
            jobs_before = training_jobs(sm)
            running_before = [
                run["id"]
                for run in prefect_runs(
                    stack.prefect_url,
                    {
                        "flows": {"name": {"any_": ["training", "tuning"]}},
                        "flow_runs": {"state": {"type": {"any_": ["RUNNING", "PENDING"]}}},
                    },
                )
            ]
            assert running_before, "Prefect shows the job's and the tuning job's runs going"

            killed, killed_at = time.monotonic(), time.time()
            kill_serve_and_wait_for_the_stack_to_end(data_dir, bound=60)
            down = time.monotonic()

        # Down past the next due time by more than the 30 s a run may be late before it counts as
        # missed: at least one run is missed, whatever the second of the kill.
        time.sleep(max((killed_at // 60 + 1) * 60 + 31 - time.time(), 0))
        restarted, restarted_at = time.monotonic(), datetime.now(UTC)
        with running_stack(data_dir) as stack:
            ready = time.monotonic()
            sm = stack.sagemaker
            after = training(bucket, image="xgboost", rounds=10, output="after-restart")
            sm.create_training_job(TrainingJobName="after-restart", **after)

            job = sm.describe_training_job(TrainingJobName="cut-short")
            assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Failed", "Failed")
            assert "The platform stopped while this job was running" in job["FailureReason"]
            assert not job["ModelArtifacts"]["S3ModelArtifacts"]
            assert job["SecondaryStatusTransitions"][-1]["Status"] == "Failed"
            assert not list(stack.store.list(f"s3://{bucket}/output/"))  # nothing half-published
            assert not scratch_before & set(scratch.iterdir()), "the killed runs' scratch is gone"
            # Only the jobs from before the kill: the schedule may start new ones at once.
            assert not jobs_before & training_jobs(sm, StatusEquals="InProgress")

            described = sm.describe_hyper_parameter_tuning_job(
                HyperParameterTuningJobName="kept-trials"
            )
            assert described["HyperParameterTuningJobStatus"] != "InProgress", described
            still = completed_trials(sm, "kept-trials")
            assert {name: still.get(name) for name in kept} == kept  # Completed, same metrics

            code, body = stack.rest("GET", "/api/v1/pipelines/nightly/schedules/minutely/")
            assert body["applied"] is True, body
            assert len(body["missed_runs"]) >= 1, body
            assert prefect_schedule_slugs(stack.prefect_url) != []  # applied again at start

            # Prefect agrees: the runs going at the kill are not going any more.
            states = [
                run["state_type"]
                for run in prefect_runs(
                    stack.prefect_url, {"flow_runs": {"id": {"any_": running_before}}}
                )
            ]
            assert "CRASHED" in states, states
            assert not {"RUNNING", "PENDING"} & set(states), states

            # The platform works on: a new job runs to the end, and the schedule starts executions.
            sm.get_waiter("training_job_completed_or_stopped").wait(
                TrainingJobName="after-restart", WaiterConfig=WAIT
            )
            job = sm.describe_training_job(TrainingJobName="after-restart")
            assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
            wait_until(
                lambda: sm.list_pipeline_executions(
                    PipelineName="nightly", CreatedAfter=restarted_at
                )["PipelineExecutionSummaries"],
                timeout=150,
                what="an execution of the schedule after the restart",
                poll=2,
            )
        report(
            "flows-serve-killed",
            stack_down_after_kill_s=round(down - killed, 2),
            restart_to_ready_s=round(ready - restarted, 1),
            trials_kept=len(kept),
            missed_runs=len(body["missed_runs"]),
        )
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
