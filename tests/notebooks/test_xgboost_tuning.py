"""Hyperparameter tuning of SageMaker's XGBoost through the SDK v2, cell by cell: an
``Estimator`` whose static hyperparameters include XGBoost's own ``rate_drop`` and
``tweedie_variance_power``, a ``HyperparameterTuner`` over four ranges on ``validation:auc``,
``fit`` on ``csv`` channels, the job's status read back with boto3.

Notebook: hyperparameter_tuning/xgboost_direct_marketing/
hpo_xgboost_direct_marketing_sagemaker_python_sdk.ipynb in aws/amazon-sagemaker-examples (its
last version there). ``bank-additional-full.csv`` is synthetic of the same columns (``cells``),
written ``;``-separated as UCI's zip holds it. Two trials instead of 20; the pandas/NumPy lines
as in ``test_xgboost_direct_marketing``. The notebook ends at the status check; the test then
waits for the job and looks at its trials.
"""

from __future__ import annotations

import pytest

from tests.notebooks.cells import ROLE, bank_marketing_frame
from tests.stack import STACK_START_S

pytestmark = pytest.mark.timeout(STACK_START_S + 240)

ROWS = 3000


def test_xgboost_tuning_with_static_dart_and_tweedie_hyperparameters(
    user_env, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)

    # [3] Libraries, clients, role, bucket, prefix.
    import os

    import boto3
    import numpy as np
    import pandas as pd
    import sagemaker
    from sagemaker.inputs import TrainingInput
    from sagemaker.tuner import ContinuousParameter, HyperparameterTuner, IntegerParameter

    region = boto3.Session().region_name
    assert region == "us-east-1"
    smclient = boto3.Session().client("sagemaker")
    role = ROLE  # sagemaker.get_execution_role() in a SageMaker notebook (see cells.ROLE)
    bucket = sagemaker.Session().default_bucket()
    prefix = "sagemaker/DEMO-hpo-xgboost-dm"

    # [5] The data set (the notebook unzips UCI's bank-additional.zip).
    (tmp_path / "bank-additional").mkdir()
    bank_marketing_frame(ROWS, seed=2).to_csv(
        "./bank-additional/bank-additional-full.csv", sep=";", index=False
    )

    # [7] Read it.
    data = pd.read_csv("./bank-additional/bank-additional-full.csv", sep=";")

    # [11] Indicator features and one-hot categories.
    data["no_previous_contact"] = np.where(data["pdays"] == 999, 1, 0)
    data["not_working"] = np.where(np.isin(data["job"], ["student", "retired", "unemployed"]), 1, 0)
    model_data = pd.get_dummies(data, dtype=np.uint8)

    # [13] Drop what is not known at prediction time.
    model_data = model_data.drop(
        ["duration", "emp.var.rate", "cons.price.idx", "cons.conf.idx", "euribor3m", "nr.employed"],
        axis=1,
    )

    # [15] Split 70/20/10 and write label-first CSVs.
    shuffled = model_data.sample(frac=1, random_state=1729)
    cuts = [int(0.7 * len(model_data)), int(0.9 * len(model_data))]
    train_data, validation_data, test_data = (
        shuffled.iloc[: cuts[0]],
        shuffled.iloc[cuts[0] : cuts[1]],
        shuffled.iloc[cuts[1] :],
    )
    splits = {"train": train_data, "validation": validation_data, "test": test_data}
    for name, frame in splits.items():
        pd.concat([frame["y_yes"], frame.drop(["y_no", "y_yes"], axis=1)], axis=1).to_csv(
            f"{name}.csv", index=False, header=False
        )

    # [17] Upload with boto3's resource API.
    boto3.Session().resource("s3").Bucket(bucket).Object(
        os.path.join(prefix, "train/train.csv")
    ).upload_file("train.csv")
    boto3.Session().resource("s3").Bucket(bucket).Object(
        os.path.join(prefix, "validation/validation.csv")
    ).upload_file("validation.csv")

    # [19] The estimator of the "latest" XGBoost image, with static hyperparameters.
    sess = sagemaker.Session()
    container = sagemaker.image_uris.retrieve("xgboost", boto3.Session().region_name, "latest")
    xgb = sagemaker.estimator.Estimator(
        container,
        role,
        instance_count=1,
        instance_type="ml.m4.xlarge",
        output_path=f"s3://{bucket}/{prefix}/output",
        sagemaker_session=sess,
    )
    xgb.set_hyperparameters(
        eval_metric="auc",
        objective="binary:logistic",
        num_round=100,
        rate_drop=0.3,
        tweedie_variance_power=1.4,
    )

    # [21] The ranges.
    hyperparameter_ranges = {
        "eta": ContinuousParameter(0, 1),
        "min_child_weight": ContinuousParameter(1, 10),
        "alpha": ContinuousParameter(0, 2),
        "max_depth": IntegerParameter(1, 10),
    }

    # [23] The objective.
    objective_metric_name = "validation:auc"

    # [25] The tuner (2 trials here, 20 in the notebook).
    tuner = HyperparameterTuner(
        xgb, objective_metric_name, hyperparameter_ranges, max_jobs=2, max_parallel_jobs=2
    )

    # [27] Fit on the csv channels.
    s3_input_train = TrainingInput(s3_data=f"s3://{bucket}/{prefix}/train", content_type="csv")
    s3_input_validation = TrainingInput(
        s3_data=f"s3://{bucket}/{prefix}/validation/", content_type="csv"
    )
    tuner.fit(
        {"train": s3_input_train, "validation": s3_input_validation}, include_cls_metadata=False
    )

    # [29] Its status.
    status = boto3.client("sagemaker").describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=tuner.latest_tuning_job.job_name
    )["HyperParameterTuningJobStatus"]
    assert status in ("InProgress", "Completed")

    # Beyond the notebook: the job ends, each trial trained with the static hyperparameters.
    tuner.wait()
    described = smclient.describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=tuner.latest_tuning_job.job_name
    )
    assert described["HyperParameterTuningJobStatus"] == "Completed", described
    assert described["TrainingJobStatusCounters"]["Completed"] == 2
    best = described["BestTrainingJob"]
    assert best["FinalHyperParameterTuningJobObjectiveMetric"]["MetricName"] == "validation:auc"
    assert 0.5 < best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] <= 1
    trial = smclient.describe_training_job(TrainingJobName=best["TrainingJobName"])
    assert trial["HyperParameters"]["rate_drop"] == "0.3"
    assert trial["HyperParameters"]["tweedie_variance_power"] == "1.4"
    assert set(hyperparameter_ranges) <= set(trial["HyperParameters"])
