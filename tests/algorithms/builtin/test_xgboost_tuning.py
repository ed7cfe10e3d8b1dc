"""A tuning job of the xgboost built-in maximising validation:auc, run in-process as the tuning
flow runs it: the trials get the objective metric without listing it in eval_metric (as
SageMaker's XGBoost adds it) and the best trial is the one with the highest AUC."""

from __future__ import annotations

import pytest

from console.tuning.describe import tuning_job_describe
from console.tuning.selectors import tuning_job_trials
from console.tuning.services import tuning_job_create
from flows.training import run_training_job
from flows.tuning import run_tuning_job
from tests.console.test_tuning import request

pytestmark = pytest.mark.django_db


def test_tuning_xgboost_on_validation_auc(user, data_bucket):
    spec = request(
        data_bucket,
        name="tune-xgboost",
        HyperParameterTuningJobObjective={"Type": "Maximize", "MetricName": "validation:auc"},
        ParameterRanges={
            "ContinuousParameterRanges": [
                {"Name": "eta", "MinValue": "0.05", "MaxValue": "0.5", "ScalingType": "Auto"}
            ],
            "IntegerParameterRanges": [
                {"Name": "max_depth", "MinValue": "1", "MaxValue": "6", "ScalingType": "Auto"}
            ],
        },
    )
    definition = spec["TrainingJobDefinition"]
    definition["AlgorithmSpecification"]["TrainingImage"] = (
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    )
    definition["StaticHyperParameters"] = {
        "objective": "binary:logistic",
        "num_round": "10",
        "nthread": "1",
    }
    for input_channel in definition["InputDataConfig"]:
        input_channel["ContentType"] = "csv"  # as the SDK's XGBoost examples write it
    job = tuning_job_create(user=user, spec=spec)

    assert run_tuning_job(job.pk, poll_seconds=0.01, run_trial=run_training_job) == "Completed"

    trials = list(tuning_job_trials(job))
    assert len(trials) == 4 and all(t.status == "Completed" for t in trials)
    values = [t.final_metrics["validation:auc"] for t in trials]
    assert all(0.5 < value <= 1 for value in values)
    best = tuning_job_describe(job)["BestTrainingJob"]
    assert best["FinalHyperParameterTuningJobObjectiveMetric"] == {
        "Type": "Maximize",
        "MetricName": "validation:auc",
        "Value": max(values),
    }
    assert set(best["TunedHyperParameters"]) == {"eta", "max_depth"}
