"""The abalone pipeline notebook, cell by cell: preprocess (SKLearnProcessor) → train SageMaker's
XGBoost 1.0-1 → evaluate (ScriptProcessor, PropertyFile) → MSE ≤ threshold ? register the model
with the evaluation as its ModelMetrics, create the model, batch transform : fail.

Notebook: ml_ops/sm-pipelines_preprocess_train_evaluate_batch_transform/
sm-pipelines_preprocess_train_evaluate_batch_transform.ipynb in aws/amazon-sagemaker-examples
(formerly sagemaker-pipelines/tabular/abalone_build_train_deploy/
sagemaker-pipelines-preprocess-train-evaluate-batch-transform.ipynb). Its scripts are the
notebook's, byte for byte; its downloads are synthetic data of the same shape (``cells``).
Left out: the ``pip install`` cell, the lineage cell (the SageMaker Lineage APIs, which only
display a table, are not served), and the second execution with the default threshold (cells
74-76, ``ModelApprovalStatus="Approved"``), which runs the first one's steps again: a minute more
for nothing new.
"""

from __future__ import annotations

import json

import pytest

from tests.notebooks.cells import ROLE, abalone_batch_csv, abalone_csv
from tests.stack import STACK_START_S

pytestmark = pytest.mark.timeout(STACK_START_S + 420)

# The notebook's %%writefile code/preprocessing.py, unchanged.
PREPROCESSING = """import argparse
import os
import requests
import tempfile

import numpy as np
import pandas as pd

from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler, OneHotEncoder


# Since we get a headerless CSV file, we specify the column names here.
feature_columns_names = [
    "sex",
    "length",
    "diameter",
    "height",
    "whole_weight",
    "shucked_weight",
    "viscera_weight",
    "shell_weight",
]
label_column = "rings"

feature_columns_dtype = {
    "sex": str,
    "length": np.float64,
    "diameter": np.float64,
    "height": np.float64,
    "whole_weight": np.float64,
    "shucked_weight": np.float64,
    "viscera_weight": np.float64,
    "shell_weight": np.float64,
}
label_column_dtype = {"rings": np.float64}


def merge_two_dicts(x, y):
    z = x.copy()
    z.update(y)
    return z


if __name__ == "__main__":
    base_dir = "/opt/ml/processing"

    df = pd.read_csv(
        f"{base_dir}/input/abalone-dataset.csv",
        header=None,
        names=feature_columns_names + [label_column],
        dtype=merge_two_dicts(feature_columns_dtype, label_column_dtype),
    )
    numeric_features = list(feature_columns_names)
    numeric_features.remove("sex")
    numeric_transformer = Pipeline(
        steps=[("imputer", SimpleImputer(strategy="median")), ("scaler", StandardScaler())]
    )

    categorical_features = ["sex"]
    categorical_transformer = Pipeline(
        steps=[
            ("imputer", SimpleImputer(strategy="constant", fill_value="missing")),
            ("onehot", OneHotEncoder(handle_unknown="ignore")),
        ]
    )

    preprocess = ColumnTransformer(
        transformers=[
            ("num", numeric_transformer, numeric_features),
            ("cat", categorical_transformer, categorical_features),
        ]
    )

    y = df.pop("rings")
    X_pre = preprocess.fit_transform(df)
    y_pre = y.to_numpy().reshape(len(y), 1)

    X = np.concatenate((y_pre, X_pre), axis=1)

    np.random.shuffle(X)
    train, validation, test = np.split(X, [int(0.7 * len(X)), int(0.85 * len(X))])

    pd.DataFrame(train).to_csv(f"{base_dir}/train/train.csv", header=False, index=False)
    pd.DataFrame(validation).to_csv(
        f"{base_dir}/validation/validation.csv", header=False, index=False
    )
    pd.DataFrame(test).to_csv(f"{base_dir}/test/test.csv", header=False, index=False)
"""

# The notebook's %%writefile code/evaluation.py, unchanged: it unpickles ``xgboost-model``, as
# SageMaker's XGBoost before 1.3-1 saves it.
EVALUATION = """import json
import pathlib
import pickle
import tarfile

import joblib
import numpy as np
import pandas as pd
import xgboost

from sklearn.metrics import mean_squared_error


if __name__ == "__main__":
    model_path = f"/opt/ml/processing/model/model.tar.gz"
    with tarfile.open(model_path) as tar:
        tar.extractall(path=".")

    model = pickle.load(open("xgboost-model", "rb"))

    test_path = "/opt/ml/processing/test/test.csv"
    df = pd.read_csv(test_path, header=None)

    y_test = df.iloc[:, 0].to_numpy()
    df.drop(df.columns[0], axis=1, inplace=True)

    X_test = xgboost.DMatrix(df.values)

    predictions = model.predict(X_test)

    mse = mean_squared_error(y_test, predictions)
    std = np.std(y_test - predictions)
    report_dict = {
        "regression_metrics": {
            "mse": {"value": mse, "standard_deviation": std},
        },
    }

    output_dir = "/opt/ml/processing/evaluation"
    pathlib.Path(output_dir).mkdir(parents=True, exist_ok=True)

    evaluation_path = f"{output_dir}/evaluation.json"
    with open(evaluation_path, "w") as f:
        f.write(json.dumps(report_dict))
"""

# Rings spread so that the model's test MSE lands near 4: under the notebook's default threshold
# (6.0), over the 3.0 of its last execution.
ABALONE_ROWS, ABALONE_NOISE, BATCH_ROWS = 3000, 1.9, 200
# The notebook's ``execution.wait()`` polls every 30 s; the same waiter, polled every 2 s.
WAIT = {"delay": 2, "max_attempts": 150}


def test_the_abalone_pipeline_runs_both_branches(user_env, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)

    # [8] Session, region, role, PipelineSession, default bucket, the model package group's name.
    import boto3
    import sagemaker
    from sagemaker.workflow.pipeline_context import PipelineSession

    sagemaker_session = sagemaker.session.Session()
    region = sagemaker_session.boto_region_name
    role = ROLE  # sagemaker.get_execution_role() in a SageMaker notebook (see cells.ROLE)
    pipeline_session = PipelineSession()
    default_bucket = sagemaker_session.default_bucket()
    default_bucket_prefix = sagemaker_session.default_bucket_prefix
    default_bucket_prefix_path = ""
    if default_bucket_prefix:
        default_bucket_prefix_path = f"/{default_bucket_prefix}"
    model_package_group_name = "AbaloneModelPackageGroupName"
    assert region == "us-east-1"

    # [10], [11] The abalone data set (here synthetic), uploaded to the default bucket.
    (tmp_path / "data").mkdir()
    local_path = "data/abalone-dataset.csv"
    (tmp_path / local_path).write_text(abalone_csv(ABALONE_ROWS, noise=ABALONE_NOISE))
    base_uri = f"s3://{default_bucket}{default_bucket_prefix_path}/abalone"
    input_data_uri = sagemaker.s3.S3Uploader.upload(local_path=local_path, desired_s3_uri=base_uri)
    print(input_data_uri)

    # [13] The batch data set for the transform step.
    local_path = "data/abalone-dataset-batch"
    (tmp_path / local_path).write_text(abalone_batch_csv(BATCH_ROWS))
    batch_data_uri = sagemaker.s3.S3Uploader.upload(local_path=local_path, desired_s3_uri=base_uri)
    print(batch_data_uri)

    # [15] Pipeline parameters.
    from sagemaker.workflow.parameters import ParameterFloat, ParameterInteger, ParameterString

    processing_instance_count = ParameterInteger(name="ProcessingInstanceCount", default_value=1)
    instance_type = ParameterString(name="TrainingInstanceType", default_value="ml.m5.xlarge")
    model_approval_status = ParameterString(
        name="ModelApprovalStatus", default_value="PendingManualApproval"
    )
    input_data = ParameterString(name="InputData", default_value=input_data_uri)
    batch_data = ParameterString(name="BatchData", default_value=batch_data_uri)
    mse_threshold = ParameterFloat(name="MseThreshold", default_value=6.0)

    # [18], [19] The preprocessing script.
    (tmp_path / "code").mkdir()
    (tmp_path / "code/preprocessing.py").write_text(PREPROCESSING)

    # [21] The SKLearnProcessor.
    from sagemaker.sklearn.processing import SKLearnProcessor

    framework_version = "0.23-1"
    sklearn_processor = SKLearnProcessor(
        framework_version=framework_version,
        instance_type="ml.m5.xlarge",
        instance_count=processing_instance_count,
        base_job_name="sklearn-abalone-process",
        role=role,
        sagemaker_session=pipeline_session,
    )

    # [23] The processing step.
    from sagemaker.processing import ProcessingInput, ProcessingOutput
    from sagemaker.workflow.steps import ProcessingStep

    processor_args = sklearn_processor.run(
        inputs=[ProcessingInput(source=input_data, destination="/opt/ml/processing/input")],
        outputs=[
            ProcessingOutput(output_name="train", source="/opt/ml/processing/train"),
            ProcessingOutput(output_name="validation", source="/opt/ml/processing/validation"),
            ProcessingOutput(output_name="test", source="/opt/ml/processing/test"),
        ],
        code="code/preprocessing.py",
    )
    step_process = ProcessingStep(name="AbaloneProcess", step_args=processor_args)

    # [26] SageMaker's XGBoost 1.0-1 estimator on the processing step's outputs.
    from sagemaker.estimator import Estimator
    from sagemaker.inputs import TrainingInput

    model_path = f"s3://{default_bucket}{default_bucket_prefix_path}/AbaloneTrain"
    image_uri = sagemaker.image_uris.retrieve(
        framework="xgboost",
        region=region,
        version="1.0-1",
        py_version="py3",
        instance_type="ml.m5.xlarge",
    )
    xgb_train = Estimator(
        image_uri=image_uri,
        instance_type=instance_type,
        instance_count=1,
        output_path=model_path,
        role=role,
        sagemaker_session=pipeline_session,
    )
    xgb_train.set_hyperparameters(
        objective="reg:linear",
        num_round=50,
        max_depth=5,
        eta=0.2,
        gamma=4,
        min_child_weight=6,
        subsample=0.7,
    )
    outputs = step_process.properties.ProcessingOutputConfig.Outputs
    train_args = xgb_train.fit(
        inputs={
            "train": TrainingInput(
                s3_data=outputs["train"].S3Output.S3Uri, content_type="text/csv"
            ),
            "validation": TrainingInput(
                s3_data=outputs["validation"].S3Output.S3Uri, content_type="text/csv"
            ),
        }
    )

    # [28] The training step.
    from sagemaker.workflow.steps import TrainingStep

    step_train = TrainingStep(name="AbaloneTrain", step_args=train_args)

    # [31] The evaluation script.
    (tmp_path / "code/evaluation.py").write_text(EVALUATION)

    # [33] The ScriptProcessor running it in the XGBoost image.
    from sagemaker.processing import ScriptProcessor

    script_eval = ScriptProcessor(
        image_uri=image_uri,
        command=["python3"],
        instance_type="ml.m5.xlarge",
        instance_count=1,
        base_job_name="script-abalone-eval",
        role=role,
        sagemaker_session=pipeline_session,
    )
    eval_args = script_eval.run(
        inputs=[
            ProcessingInput(
                source=step_train.properties.ModelArtifacts.S3ModelArtifacts,
                destination="/opt/ml/processing/model",
            ),
            ProcessingInput(
                source=outputs["test"].S3Output.S3Uri,
                destination="/opt/ml/processing/test",
            ),
        ],
        outputs=[
            ProcessingOutput(output_name="evaluation", source="/opt/ml/processing/evaluation"),
        ],
        code="code/evaluation.py",
    )

    # [35] The evaluation step with its property file.
    from sagemaker.workflow.properties import PropertyFile

    evaluation_report = PropertyFile(
        name="EvaluationReport", output_name="evaluation", path="evaluation.json"
    )
    step_eval = ProcessingStep(
        name="AbaloneEval", step_args=eval_args, property_files=[evaluation_report]
    )

    # [38] The model of the trained artifact.
    from sagemaker.model import Model

    model = Model(
        image_uri=image_uri,
        model_data=step_train.properties.ModelArtifacts.S3ModelArtifacts,
        sagemaker_session=pipeline_session,
        role=role,
    )

    # [40] The create-model step.
    from sagemaker.workflow.model_step import ModelStep

    step_create_model = ModelStep(
        name="AbaloneCreateModel",
        step_args=model.create(instance_type="ml.m5.large", accelerator_type="ml.eia1.medium"),
    )

    # [42] The transformer of the created model.
    from sagemaker.transformer import Transformer

    transformer = Transformer(
        model_name=step_create_model.properties.ModelName,
        instance_type="ml.m5.xlarge",
        instance_count=1,
        output_path=f"s3://{default_bucket}{default_bucket_prefix_path}/AbaloneTransform",
    )

    # [44] The transform step over the batch data parameter.
    from sagemaker.inputs import TransformInput
    from sagemaker.workflow.steps import TransformStep

    step_transform = TransformStep(
        name="AbaloneTransform", transformer=transformer, inputs=TransformInput(data=batch_data)
    )

    # [46] The register step, with the evaluation report as the model's statistics.
    from sagemaker.model_metrics import MetricsSource, ModelMetrics

    evaluation_uri = step_eval.arguments["ProcessingOutputConfig"]["Outputs"][0]["S3Output"][
        "S3Uri"
    ]
    model_metrics = ModelMetrics(
        model_statistics=MetricsSource(
            s3_uri=f"{evaluation_uri}/evaluation.json", content_type="application/json"
        )
    )
    register_args = model.register(
        content_types=["text/csv"],
        response_types=["text/csv"],
        inference_instances=["ml.t2.medium", "ml.m5.xlarge"],
        transform_instances=["ml.m5.xlarge"],
        model_package_group_name=model_package_group_name,
        approval_status=model_approval_status,
        model_metrics=model_metrics,
    )
    step_register = ModelStep(name="AbaloneRegisterModel", step_args=register_args)

    # [49] The fail step.
    from sagemaker.workflow.fail_step import FailStep
    from sagemaker.workflow.functions import Join

    step_fail = FailStep(
        name="AbaloneMSEFail",
        error_message=Join(on=" ", values=["Execution failed due to MSE >", mse_threshold]),
    )

    # [52] The condition on the evaluation's MSE.
    from sagemaker.workflow.condition_step import ConditionStep
    from sagemaker.workflow.conditions import ConditionLessThanOrEqualTo
    from sagemaker.workflow.functions import JsonGet

    cond_lte = ConditionLessThanOrEqualTo(
        left=JsonGet(
            step_name=step_eval.name,
            property_file=evaluation_report,
            json_path="regression_metrics.mse.value",
        ),
        right=mse_threshold,
    )
    step_cond = ConditionStep(
        name="AbaloneMSECond",
        conditions=[cond_lte],
        if_steps=[step_register, step_create_model, step_transform],
        else_steps=[step_fail],
    )

    # [55] The pipeline.
    from sagemaker.workflow.pipeline import Pipeline

    pipeline_name = "AbalonePipeline"
    pipeline = Pipeline(
        name=pipeline_name,
        parameters=[
            processing_instance_count,
            instance_type,
            model_approval_status,
            input_data,
            batch_data,
            mse_threshold,
        ],
        steps=[step_process, step_train, step_eval, step_cond],
    )

    # [58] Its definition.
    definition = json.loads(pipeline.definition())
    assert [step["Name"] for step in definition["Steps"]] == [
        "AbaloneProcess",
        "AbaloneTrain",
        "AbaloneEval",
        "AbaloneMSECond",
    ]

    # [60] Upsert, [62] start with the defaults, [64] describe, [66] wait, [68] list the steps.
    pipeline.upsert(role_arn=role)
    execution = pipeline.start()
    assert execution.describe()["PipelineExecutionStatus"] in ("Executing", "Succeeded")
    execution.wait(**WAIT)
    steps = execution.list_steps()
    statuses = {step["StepName"]: step["StepStatus"] for step in steps}
    assert statuses == {
        "AbaloneProcess": "Succeeded",
        "AbaloneTrain": "Succeeded",
        "AbaloneEval": "Succeeded",
        "AbaloneMSECond": "Succeeded",
        "AbaloneRegisterModel-RegisterModel": "Succeeded",
        "AbaloneCreateModel-CreateModel": "Succeeded",
        "AbaloneTransform": "Succeeded",
    }, steps

    # [70] The evaluation report.
    from pprint import pprint

    evaluation_json = sagemaker.s3.S3Downloader.read_file(f"{evaluation_uri}/evaluation.json")
    pprint(json.loads(evaluation_json))
    mse = json.loads(evaluation_json)["regression_metrics"]["mse"]["value"]
    assert 3.0 < mse <= 6.0  # between the two executions' thresholds below

    # What the register step made: a version of the group, its statistics the evaluation report.
    sm = boto3.client("sagemaker")
    register = next(s for s in steps if s["StepName"] == "AbaloneRegisterModel-RegisterModel")
    package_arn = register["Metadata"]["RegisterModel"]["Arn"]
    package = sm.describe_model_package(ModelPackageName=package_arn)
    assert package["ModelPackageGroupName"] == model_package_group_name
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    assert package["ModelMetrics"]["ModelQuality"]["Statistics"] == {
        "ContentType": "application/json",
        "S3Uri": f"{evaluation_uri}/evaluation.json",
    }
    container = package["InferenceSpecification"]["Containers"][0]
    assert container["Image"] == image_uri
    assert container["ModelDataUrl"].startswith(f"{model_path}/")  # the training step's artifact
    assert container["ModelDataUrl"].endswith("/output/model.tar.gz")

    # The transform output: one prediction per batch record.
    scored = sagemaker.s3.S3Downloader.read_file(
        f"s3://{default_bucket}{default_bucket_prefix_path}/AbaloneTransform/"
        "abalone-dataset-batch.out"
    )
    predictions = [float(line) for line in scored.splitlines()]
    assert len(predictions) == BATCH_ROWS
    assert all(0 < value < 30 for value in predictions)

    # [78] Start with a stricter threshold, [80] wait (it fails), [81] list the steps.
    execution = pipeline.start(parameters=dict(MseThreshold=3.0))
    try:
        execution.wait(**WAIT)
    except Exception as error:
        print(error)
    steps = execution.list_steps()
    statuses = {step["StepName"]: step["StepStatus"] for step in steps}
    assert statuses == {
        "AbaloneProcess": "Succeeded",
        "AbaloneTrain": "Succeeded",
        "AbaloneEval": "Succeeded",
        "AbaloneMSECond": "Succeeded",
        "AbaloneMSEFail": "Failed",
    }, steps
    described = execution.describe()
    assert described["PipelineExecutionStatus"] == "Failed"
    assert described["FailureReason"] == "Execution failed due to MSE > 3.0"
    fail = next(s for s in steps if s["StepName"] == "AbaloneMSEFail")
    assert fail["Metadata"]["Fail"]["ErrorMessage"] == "Execution failed due to MSE > 3.0"
    assert "Waiter PipelineExecutionComplete failed" in capsys.readouterr().out
