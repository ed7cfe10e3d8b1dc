"""Tuning jobs: what CreateHyperParameterTuningJob accepts and refuses, and stop. The flow's work
is tested in tests/flows/test_tuning.py, early stopping's choice in test_tuning_analysis.py."""

from __future__ import annotations

import copy

import pytest

from console.core.errors import AlreadyExists, InvalidState, LimitExceeded, ValidationError
from console.core.names import account_id_for, arn
from console.core.shapes import ShapeError
from console.tuning.describe import tuning_job_describe
from console.tuning.models import HyperParameterTuningJob
from console.tuning.selectors import tuning_job_trials
from console.tuning.services import tuning_job_create, tuning_job_stop
from flows.training import run_training_job
from flows.tuning import run_tuning_job

pytestmark = pytest.mark.django_db

RANGES = {
    "ContinuousParameterRanges": [
        {
            "Name": "learning_rate",
            "MinValue": "0.01",
            "MaxValue": "0.5",
            "ScalingType": "Logarithmic",
        }
    ],
    "IntegerParameterRanges": [
        {"Name": "num_leaves", "MinValue": "2", "MaxValue": "16", "ScalingType": "Auto"}
    ],
}


def channel(name: str, uri: str) -> dict:
    return {
        "ChannelName": name,
        "ContentType": "text/csv",
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri}},
    }


def request(bucket: str, name: str = "tune", **config_changes) -> dict:
    """A Bayesian job over two LightGBM hyperparameters, minimising validation log-loss."""
    config = {
        "Strategy": "Bayesian",
        "HyperParameterTuningJobObjective": {
            "Type": "Minimize",
            "MetricName": "validation:binary_logloss",
        },
        "ResourceLimits": {"MaxNumberOfTrainingJobs": 4, "MaxParallelTrainingJobs": 2},
        "ParameterRanges": copy.deepcopy(RANGES),
        "RandomSeed": 7,
    }
    config.update(config_changes)
    return {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": config,
        "TrainingJobDefinition": {
            "AlgorithmSpecification": {"TrainingImage": "lightgbm", "TrainingInputMode": "File"},
            "RoleArn": "arn:aws:iam::000000000000:role/sagebrush",
            "StaticHyperParameters": {"objective": "binary", "num_boost_round": "10"},
            "InputDataConfig": [
                channel("train", f"s3://{bucket}/train/"),
                channel("validation", f"s3://{bucket}/validation/"),
            ],
            "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/tuning"},
            "ResourceConfig": {
                "InstanceType": "ml.m5.large",
                "InstanceCount": 1,
                "VolumeSizeInGB": 1,
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": 300},
        },
    }


def refused(user, spec) -> ValidationError:
    with pytest.raises(ValidationError) as raised:
        tuning_job_create(user=user, spec=spec)
    assert not HyperParameterTuningJob.objects.exists()  # nothing written
    return raised.value


# -- create: what is accepted ------------------------------------------------------------------


def test_create_saves_the_job_in_progress_with_its_arn(user, data_bucket):
    job = tuning_job_create(user=user, spec=request(data_bucket, name="Tune-Me"))
    assert job.status == "InProgress"
    assert job.arn == arn(
        "hyper-parameter-tuning-job", "tune-me", account_id=account_id_for(user.pk)
    )
    described = tuning_job_describe(job)
    assert described["HyperParameterTuningJobStatus"] == "InProgress"
    assert described["TrainingJobStatusCounters"] == {
        "Completed": 0,
        "InProgress": 0,
        "RetryableError": 0,
        "NonRetryableError": 0,
        "Stopped": 0,
    }
    assert described["ObjectiveStatusCounters"] == {"Succeeded": 0, "Pending": 0, "Failed": 0}
    assert "BestTrainingJob" not in described


def test_names_are_unique_case_insensitively(user, data_bucket):
    tuning_job_create(user=user, spec=request(data_bucket, name="same"))
    with pytest.raises(AlreadyExists):
        tuning_job_create(user=user, spec=request(data_bucket, name="SAME"))


def test_grid_infers_the_job_count_from_the_categorical_combinations(user, data_bucket):
    grid = {
        "CategoricalParameterRanges": [
            {"Name": "num_leaves", "Values": ["4", "8", "16"]},
            {"Name": "learning_rate", "Values": ["0.1", "0.3"]},
        ]
    }
    spec = request(
        data_bucket,
        Strategy="Grid",
        ParameterRanges=grid,
        ResourceLimits={"MaxParallelTrainingJobs": 2},
    )
    job = tuning_job_create(user=user, spec=spec)
    assert job.status == "InProgress"
    limits = tuning_job_describe(job)["HyperParameterTuningJobConfig"]["ResourceLimits"]
    assert limits == {"MaxParallelTrainingJobs": 2, "MaxNumberOfTrainingJobs": 6}

    assert run_tuning_job(job.pk, poll_seconds=0.01, run_trial=run_training_job) == "Completed"
    combinations = {
        (t.spec["HyperParameters"]["num_leaves"], t.spec["HyperParameters"]["learning_rate"])
        for t in tuning_job_trials(job)
    }
    assert combinations == {(n, r) for n in ("4", "8", "16") for r in ("0.1", "0.3")}


# -- create: what is refused, naming the field and the rule ------------------------------------


def test_grid_refuses_numeric_ranges_and_a_wrong_job_count(user, data_bucket):
    error = refused(user, request(data_bucket, Strategy="Grid"))
    assert "IntegerParameterRanges" in error.field or "ContinuousParameterRanges" in error.field
    assert "categorical" in error.rule

    grid = {"CategoricalParameterRanges": [{"Name": "num_leaves", "Values": ["4", "8"]}]}
    error = refused(user, request(data_bucket, Strategy="Grid", ParameterRanges=grid))
    assert error.field.endswith("ResourceLimits.MaxNumberOfTrainingJobs")
    assert "(2)" in error.rule


def test_hyperband_needs_early_stopping_off(user, data_bucket):
    spec = request(data_bucket, Strategy="Hyperband", TrainingJobEarlyStoppingType="Auto")
    error = refused(user, spec)
    assert error.field == "HyperParameterTuningJobConfig.TrainingJobEarlyStoppingType"


def test_hyperband_takes_its_resource_from_the_static_rounds(user, data_bucket):
    spec = request(
        data_bucket,
        Strategy="Hyperband",
        StrategyConfig={"HyperbandStrategyConfig": {"MinResource": 1, "MaxResource": 9}},
    )
    assert tuning_job_create(user=user, spec=spec).status == "InProgress"
    bad = request(
        data_bucket,
        name="bad",
        Strategy="Hyperband",
        StrategyConfig={"HyperbandStrategyConfig": {"MinResource": 10, "MaxResource": 9}},
    )
    with pytest.raises(ValidationError) as raised:
        tuning_job_create(user=user, spec=bad)
    assert raised.value.field.endswith("HyperbandStrategyConfig.MaxResource")


@pytest.mark.parametrize(
    ("item", "field", "rule"),
    [
        (
            {
                "Name": "learning_rate",
                "MinValue": "0",
                "MaxValue": "0.5",
                "ScalingType": "Logarithmic",
            },
            "MinValue",
            "Logarithmic scaling needs MinValue > 0",
        ),
        (
            {
                "Name": "learning_rate",
                "MinValue": "0.1",
                "MaxValue": "1.5",
                "ScalingType": "ReverseLogarithmic",
            },
            "ContinuousParameterRanges[0]",
            "0 <= MinValue < MaxValue < 1",
        ),
        (
            {
                "Name": "learning_rate",
                "MinValue": "0.5",
                "MaxValue": "0.1",
                "ScalingType": "Linear",
            },
            "ContinuousParameterRanges[0]",
            "MinValue must be less than MaxValue",
        ),
    ],
)
def test_scaling_rules(user, data_bucket, item, field, rule):
    ranges = {"ContinuousParameterRanges": [item]}
    error = refused(user, request(data_bucket, ParameterRanges=ranges))
    assert field in error.field
    assert rule in error.rule


def test_reverse_logarithmic_is_for_continuous_ranges_only(user, data_bucket):
    ranges = {
        "IntegerParameterRanges": [
            {
                "Name": "num_leaves",
                "MinValue": "2",
                "MaxValue": "8",
                "ScalingType": "ReverseLogarithmic",
            }
        ]
    }
    error = refused(user, request(data_bucket, ParameterRanges=ranges))
    assert "continuous ranges only" in error.rule


def test_ranges_must_be_valid_for_the_algorithm(user, data_bucket):
    ranges = {
        "ContinuousParameterRanges": [
            {"Name": "learning_rate", "MinValue": "0.1", "MaxValue": "3", "ScalingType": "Linear"}
        ]
    }
    error = refused(user, request(data_bucket, ParameterRanges=ranges))
    assert error.field == "HyperParameterTuningJobConfig.ParameterRanges"
    assert "learning_rate" in error.rule


def test_the_objective_must_be_one_of_the_metrics(user, data_bucket):
    objective = {"Type": "Maximize", "MetricName": "validation:accuracy"}
    error = refused(user, request(data_bucket, HyperParameterTuningJobObjective=objective))
    assert error.field.endswith("HyperParameterTuningJobObjective.MetricName")
    assert "validation:auc" in error.rule


def test_a_hyperparameter_cannot_be_static_and_tunable(user, data_bucket):
    spec = request(data_bucket)
    spec["TrainingJobDefinition"]["StaticHyperParameters"]["num_leaves"] = "8"
    error = refused(user, spec)
    assert error.field == "TrainingJobDefinition.StaticHyperParameters.num_leaves"


def test_bayesian_needs_a_job_budget_and_limits_are_enforced(user, data_bucket):
    error = refused(user, request(data_bucket, ResourceLimits={"MaxParallelTrainingJobs": 2}))
    assert error.field.endswith("MaxNumberOfTrainingJobs")
    limits = {"MaxNumberOfTrainingJobs": 10, "MaxParallelTrainingJobs": 101}
    with pytest.raises(LimitExceeded):
        tuning_job_create(user=user, spec=request(data_bucket, ResourceLimits=limits))


def test_the_request_shape_is_checked_as_botocore_models_it(user, data_bucket):
    with pytest.raises(ShapeError) as raised:
        tuning_job_create(user=user, spec=request(data_bucket, name="x" * 33))
    assert "hyperParameterTuningJobName" in str(raised.value)
    with pytest.raises(ShapeError):
        tuning_job_create(user=user, spec=request(data_bucket, Strategy="Genetic"))


def test_trial_channels_must_match_objects_at_create_time(user, data_bucket):
    spec = request(data_bucket)
    spec["TrainingJobDefinition"]["InputDataConfig"][0] = channel(
        "train", f"s3://{data_bucket}/nothing-here/"
    )
    error = refused(user, spec)
    assert error.field == "TrainingJobDefinition.InputDataConfig.1.DataSource.S3DataSource.S3Uri"
    assert "matches no objects" in error.rule


def test_completion_criteria_are_checked(user, data_bucket):
    criteria = {"BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 2}}
    with pytest.raises(ShapeError) as raised:
        tuning_job_create(
            user=user, spec=request(data_bucket, TuningJobCompletionCriteria=criteria)
        )
    assert "maxNumberOfTrainingJobsNotImproving" in str(raised.value)


def test_warm_start_parents_must_exist_be_terminal_and_share_the_objective(user, data_bucket):
    parent = tuning_job_create(user=user, spec=request(data_bucket, name="parent"))
    warm = request(data_bucket, name="child")
    warm["WarmStartConfig"] = {
        "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": "parent"}],
        "WarmStartType": "IdenticalDataAndAlgorithm",
    }
    with pytest.raises(ValidationError) as raised:
        tuning_job_create(user=user, spec=warm)
    assert "InProgress" in raised.value.rule

    parent.status = "Completed"
    parent.save()
    warm["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"]["Type"] = "Maximize"
    with pytest.raises(ValidationError) as raised:
        tuning_job_create(user=user, spec=warm)
    assert "same objective" in raised.value.rule

    warm["WarmStartConfig"]["ParentHyperParameterTuningJobs"] = [
        {"HyperParameterTuningJobName": "nobody"}
    ]
    with pytest.raises(ValidationError) as raised:
        tuning_job_create(user=user, spec=warm)
    assert "does not exist" in raised.value.rule


def test_stop_only_while_in_progress(user, data_bucket):
    job = tuning_job_create(user=user, spec=request(data_bucket))
    tuning_job_stop(user=user, name="tune")
    job.refresh_from_db()
    assert job.status == "Stopping"
    with pytest.raises(InvalidState):
        tuning_job_stop(user=user, name="tune")
    assert run_tuning_job(job.pk) == "Stopped"
