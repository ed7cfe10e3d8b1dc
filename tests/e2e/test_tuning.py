"""Hyperparameter tuning from boto3 alone, against the running platform: the issue's "Done means".

A Bayesian job over LightGBM's learning rate and leaves, three trials at a time: every trial is a
real training job listed with the tuning job's ARN, the best one is at least as good as every
trial, low learning rates are stopped early by the median rule, and the same seed starts with the
same suggestions. A second job is stopped while its trials run, and they all end.
"""

from __future__ import annotations

import time

import pytest

from tests.stack import STACK_START_S, channels

pytestmark = pytest.mark.e2e

ROLE = "arn:aws:iam::000000000000:role/sagebrush"
METRIC = "validation:binary_logloss"


def tuning_request(bucket: str, name: str, *, jobs: int, parallel: int, rounds: int) -> dict:
    return {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": {
            "Strategy": "Bayesian",
            "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": METRIC},
            "ResourceLimits": {
                "MaxNumberOfTrainingJobs": jobs,
                "MaxParallelTrainingJobs": parallel,
                "MaxRuntimeInSeconds": 900,
            },
            "ParameterRanges": {
                "ContinuousParameterRanges": [
                    {
                        "Name": "learning_rate",
                        "MinValue": "0.0005",
                        "MaxValue": "0.3",
                        "ScalingType": "Logarithmic",
                    }
                ],
                "IntegerParameterRanges": [
                    {"Name": "num_leaves", "MinValue": "2", "MaxValue": "31", "ScalingType": "Auto"}
                ],
            },
            "TrainingJobEarlyStoppingType": "Auto",
            "RandomSeed": 11,
        },
        "TrainingJobDefinition": {
            "AlgorithmSpecification": {"TrainingImage": "lightgbm", "TrainingInputMode": "File"},
            "RoleArn": ROLE,
            "StaticHyperParameters": {
                "objective": "binary",
                "num_boost_round": str(rounds),
                "num_threads": "1",
            },
            "InputDataConfig": channels(bucket),
            "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/tuning"},
            "ResourceConfig": {
                "InstanceType": "ml.m5.large",
                "InstanceCount": 1,
                "VolumeSizeInGB": 1,
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        },
    }


def wait_for(sm, name: str, statuses: tuple[str, ...], timeout: float = 300) -> dict:
    """The tuning job once its status is one of ``statuses``; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        described = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        if described["HyperParameterTuningJobStatus"] in statuses:
            return described
        assert time.monotonic() < deadline, described
        time.sleep(2)


def trials_of(sm, name: str) -> list[dict]:
    pages = sm.get_paginator("list_training_jobs_for_hyper_parameter_tuning_job").paginate(
        HyperParameterTuningJobName=name
    )
    return [summary for page in pages for summary in page["TrainingJobSummaries"]]


@pytest.mark.timeout(STACK_START_S + 630)  # wait_for twice, five minutes each
def test_bayesian_lightgbm_tuning_from_boto3(stack, tuning_bucket):
    sm = stack.sagemaker
    sm.create_hyper_parameter_tuning_job(
        **tuning_request(tuning_bucket, "e2e-tune", jobs=6, parallel=3, rounds=5000)
    )
    # A twin with the same seed, two trials: its first suggestions must be the same.
    sm.create_hyper_parameter_tuning_job(
        **tuning_request(tuning_bucket, "e2e-twin", jobs=2, parallel=2, rounds=10)
    )

    described = wait_for(sm, "e2e-tune", ("Completed", "Failed", "Stopped"))
    assert described["HyperParameterTuningJobStatus"] == "Completed", described.get("FailureReason")
    trials = trials_of(sm, "e2e-tune")
    assert len(trials) == 6
    counters = described["TrainingJobStatusCounters"]
    assert counters["Completed"] + counters["Stopped"] == 6
    assert sum(described["ObjectiveStatusCounters"].values()) == 6

    # Every trial is a real training job carrying the tuning job's ARN.
    listed = {
        s["TrainingJobName"]
        for s in sm.list_training_jobs(NameContains="e2e-tune-", MaxResults=100)[
            "TrainingJobSummaries"
        ]
    }
    for trial in trials:
        assert trial["TrainingJobName"] in listed
        assert trial["TrainingJobName"].startswith("e2e-tune-")
        job = sm.describe_training_job(TrainingJobName=trial["TrainingJobName"])
        assert job["TuningJobArn"] == described["HyperParameterTuningJobArn"]
        assert job["HyperParameters"]["_tuning_objective_metric"] == METRIC

    # The best training job is at least as good as every trial.
    best = described["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
    values = [
        t["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
        for t in trials
        if "FinalHyperParameterTuningJobObjectiveMetric" in t
    ]
    assert values and all(best <= value for value in values)

    # Early stopping stopped some trials (the slow learning rates), and they kept a value.
    stopped = [t for t in trials if t["TrainingJobStatus"] == "Stopped"]
    assert stopped, [
        (
            t["TunedHyperParameters"],
            t["TrainingJobStatus"],
            t["TrainingEndTime"] - t["CreationTime"],
        )
        for t in trials
    ]

    # The flows log says what the tuning flow did and why a trial ended early.
    log = stack.log("flows")
    assert all(f"launched {t['TrainingJobName']}" in log for t in trials)
    assert all(f"Early stopping {t['TrainingJobName']}" in log for t in stopped)

    # Trials run at most three at a time: the (k+3)-th starts only after the k-th end.
    starts = sorted(t["CreationTime"] for t in trials)
    ends = sorted(t["TrainingEndTime"] for t in trials)
    assert all(start >= ends[index] for index, start in enumerate(starts[3:]))

    twin = wait_for(sm, "e2e-twin", ("Completed", "Failed", "Stopped"))
    assert twin["HyperParameterTuningJobStatus"] == "Completed"

    def first_two(name: str) -> list[dict]:
        summaries = sorted(trials_of(sm, name), key=lambda t: t["TrainingJobName"])
        return [summaries[i]["TunedHyperParameters"] for i in range(2)]

    assert first_two("e2e-twin") == first_two("e2e-tune")


@pytest.mark.timeout(STACK_START_S + 630)  # five minutes for three trials to run, five to stop
def test_stop_ends_every_running_trial(stack, tuning_bucket):
    sm = stack.sagemaker
    request = tuning_request(tuning_bucket, "e2e-stop", jobs=6, parallel=3, rounds=100_000)
    request["HyperParameterTuningJobConfig"]["TrainingJobEarlyStoppingType"] = "Off"
    sm.create_hyper_parameter_tuning_job(**request)
    deadline = time.monotonic() + 300
    while sum(t["TrainingJobStatus"] == "InProgress" for t in trials_of(sm, "e2e-stop")) < 3:
        assert time.monotonic() < deadline, trials_of(sm, "e2e-stop")
        time.sleep(1)

    sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="e2e-stop")

    described = wait_for(sm, "e2e-stop", ("Stopped", "Completed", "Failed"), timeout=300)
    assert described["HyperParameterTuningJobStatus"] == "Stopped"
    trials = trials_of(sm, "e2e-stop")
    assert len(trials) == 3
    assert {t["TrainingJobStatus"] for t in trials} == {"Stopped"}
