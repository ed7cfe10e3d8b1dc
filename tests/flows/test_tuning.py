"""The tuning flow's work, run in-process: trials trained in this process, against the test
database and the local store."""

from __future__ import annotations

import pytest

from console.core.errors import LimitExceeded
from console.tuning import services
from console.tuning.describe import tuning_job_describe
from console.tuning.selectors import tuning_job_trials
from console.tuning.services import tuning_job_create, tuning_job_stop
from flows import tuning as tuning_flow
from flows.training import run_training_job
from flows.tuning import run_tuning_job
from tests.console.test_tuning import channel, request

pytestmark = pytest.mark.django_db


def test_a_bayesian_job_runs_its_trials_and_finds_the_best(user, data_bucket):
    job = tuning_job_create(user=user, spec=request(data_bucket))

    assert run_tuning_job(job.pk, poll_seconds=0.01, run_trial=run_training_job) == "Completed"

    job.refresh_from_db()
    trials = list(tuning_job_trials(job))
    assert len(trials) == 4
    assert all(t.tuning_job_arn == job.arn and t.status == "Completed" for t in trials)
    assert [t.name.rsplit("-", 1)[0] for t in trials] == [f"tune-{i:03d}" for i in range(1, 5)]
    configurations = {
        (t.spec["HyperParameters"]["learning_rate"], t.spec["HyperParameters"]["num_leaves"])
        for t in trials
    }
    assert len(configurations) == 4
    assert (
        trials[0].spec["HyperParameters"]["_tuning_objective_metric"] == "validation:binary_logloss"
    )
    assert trials[0].spec["HyperParameters"]["objective"] == "binary"  # the static ones too

    described = tuning_job_describe(job)
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    assert described["TrainingJobStatusCounters"]["Completed"] == 4
    assert described["ObjectiveStatusCounters"] == {"Succeeded": 4, "Pending": 0, "Failed": 0}
    best = described["BestTrainingJob"]
    values = [t.final_metrics["validation:binary_logloss"] for t in trials]
    assert best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == min(values)
    assert set(best["TunedHyperParameters"]) == {"learning_rate", "num_leaves"}
    assert best["ObjectiveStatus"] == "Succeeded"
    assert job.best_training_job_name == best["TrainingJobName"]
    assert described["ConsumedResources"]["RuntimeInSeconds"] >= 0


def test_the_same_seed_gives_the_same_first_suggestions(user, data_bucket):
    first = tuning_job_create(user=user, spec=request(data_bucket, name="seeded-a"))
    second = tuning_job_create(user=user, spec=request(data_bucket, name="seeded-b"))
    for job in (first, second):
        run_tuning_job(job.pk, poll_seconds=0.01, run_trial=run_training_job)

    def tuned(job):
        return [
            {k: t.spec["HyperParameters"][k] for k in ("learning_rate", "num_leaves")}
            for t in tuning_job_trials(job)
        ]

    assert tuned(first)[:2] == tuned(second)[:2]


def test_target_objective_value_ends_the_job_early(user, data_bucket):
    criteria = {"TargetObjectiveMetricValue": 10.0}  # any log-loss reaches it
    spec = request(data_bucket, TuningJobCompletionCriteria=criteria)
    job = tuning_job_create(user=user, spec=spec)
    assert run_tuning_job(job.pk, poll_seconds=0.01, run_trial=run_training_job) == "Completed"
    job.refresh_from_db()
    assert job.completion_reason == "TargetObjectiveMetricValue"
    assert tuning_job_trials(job).count() == 2  # the first parallel batch, then it stopped


def test_failed_trials_fail_the_job_with_the_first_reason(user, data_bucket):
    spec = request(data_bucket)
    spec["TrainingJobDefinition"]["InputDataConfig"] = [
        channel("train", f"s3://{data_bucket}/validation/")  # no validation channel: no metric
    ]
    job = tuning_job_create(user=user, spec=spec)
    assert run_tuning_job(job.pk, poll_seconds=0.01, run_trial=run_training_job) == "Failed"
    job.refresh_from_db()
    assert "validation:binary_logloss" in job.failure_reason
    described = tuning_job_describe(job)
    assert described["ObjectiveStatusCounters"]["Failed"] == 4


def test_hyperband_runs_its_brackets_with_the_resource_as_boosting_rounds(user, data_bucket):
    spec = request(
        data_bucket,
        Strategy="Hyperband",
        StrategyConfig={"HyperbandStrategyConfig": {"MinResource": 1, "MaxResource": 3}},
        ResourceLimits={"MaxNumberOfTrainingJobs": 10, "MaxParallelTrainingJobs": 2},
    )
    job = tuning_job_create(user=user, spec=spec)
    assert run_tuning_job(job.pk, poll_seconds=0.01, run_trial=run_training_job) == "Completed"
    rounds = [t.spec["HyperParameters"]["num_boost_round"] for t in tuning_job_trials(job)]
    # Bracket 1: three configurations at 1 round, the best promoted to 3; bracket 0: two at 3.
    assert sorted(rounds) == ["1", "1", "1", "3", "3", "3"]
    best = tuning_job_describe(job)["BestTrainingJob"]
    assert best["TunedHyperParameters"]["num_boost_round"] == "3"


def test_warm_start_tells_the_tuner_the_parents_results_and_reports_the_overall_best(
    user, data_bucket
):
    parent = tuning_job_create(user=user, spec=request(data_bucket, name="parent"))
    run_tuning_job(parent.pk, poll_seconds=0.01, run_trial=run_training_job)
    child_spec = request(
        data_bucket,
        name="child",
        ResourceLimits={"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 1},
    )
    child_spec["WarmStartConfig"] = {
        "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": "parent"}],
        "WarmStartType": "IdenticalDataAndAlgorithm",
    }
    child = tuning_job_create(user=user, spec=child_spec)
    assert run_tuning_job(child.pk, poll_seconds=0.01, run_trial=run_training_job) == "Completed"

    child.refresh_from_db()
    described = tuning_job_describe(child)
    assert tuning_job_trials(child).count() == 2  # the parent's trials do not use the budget
    overall = described["OverallBestTrainingJob"]
    values = [
        t.final_metrics["validation:binary_logloss"]
        for job in (parent, child)
        for t in tuning_job_trials(job)
    ]
    assert overall["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == min(values)
    # The seed is the parent's, but the model knew the parent's four results: new points.
    parent_points = {t.spec["HyperParameters"]["learning_rate"] for t in tuning_job_trials(parent)}
    child_points = {t.spec["HyperParameters"]["learning_rate"] for t in tuning_job_trials(child)}
    assert not parent_points & child_points


def test_a_stop_request_while_trials_run_stops_the_job_at_the_next_poll(user, data_bucket):
    job = tuning_job_create(user=user, spec=request(data_bucket))

    def stop_then_train(trial_id: int) -> None:
        if job.status == "InProgress":  # the first trial: the user stops the job meanwhile
            tuning_job_stop(user=user, name="tune")
            job.refresh_from_db()
        run_training_job(trial_id)

    assert run_tuning_job(job.pk, poll_seconds=0.01, run_trial=stop_then_train) == "Stopped"
    assert tuning_job_trials(job).count() == 2  # the first parallel batch, and no more


def test_a_trial_the_platform_refuses_fails_the_job_as_the_users_error(
    user, data_bucket, monkeypatch
):
    def refuse(**_):
        raise LimitExceeded("The account-level service limit is 0 training jobs")

    monkeypatch.setattr(services, "tuning_job_launch_trial", refuse)
    job = tuning_job_create(user=user, spec=request(data_bucket))

    assert run_tuning_job(job.pk, poll_seconds=0.01, run_trial=run_training_job) == "Failed"
    job.refresh_from_db()
    assert job.failure_reason == (
        "ClientError: a trial could not be created: "
        "The account-level service limit is 0 training jobs"
    )
    assert job.ended_at is not None


def test_any_other_failure_is_an_internal_error_that_names_its_type(user, data_bucket, monkeypatch):
    def unreadable(job):
        raise ValueError("the parents could not be read")

    monkeypatch.setattr(tuning_flow, "tuning_job_parents", unreadable)
    job = tuning_job_create(user=user, spec=request(data_bucket))

    assert run_tuning_job(job.pk, poll_seconds=0.01, run_trial=run_training_job) == "Failed"
    job.refresh_from_db()
    assert job.failure_reason == "InternalError: ValueError: the parents could not be read"
