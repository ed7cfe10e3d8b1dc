"""The other step kinds in executions run in-process: Processing with a property file read by a
Condition's Std:JsonGet, Tuning whose best trial is registered, RegisterModel creating its group."""

from __future__ import annotations

import json

import pytest

from console.pipelines.selectors import pipeline_execution_steps
from console.pipelines.services import pipeline_create, pipeline_execution_start
from console.registry.selectors import model_package_group_get, model_package_list
from flows.pipelines import run_pipeline_execution
from flows.processing import run_processing_job
from flows.training import run_training_job
from flows.tuning import run_tuning_job
from tests.console.pipelines.definitions import ROLE, training_arguments
from tests.console.test_tuning import request as tuning_request
from tests.flows.test_processing import put_script
from tests.flows.test_processing import request as processing_request

pytestmark = pytest.mark.django_db

IN_PROCESS = {
    "Training": run_training_job,
    "Processing": run_processing_job,
    "Tuning": lambda job_id: run_tuning_job(job_id, poll_seconds=0.01, run_trial=run_training_job),
}
EVALUATE = """
import json, os
os.makedirs("/opt/ml/processing/evaluation", exist_ok=True)
json.dump({"regression_metrics": {"mse": {"value": 2.5}}},
          open("/opt/ml/processing/evaluation/evaluation.json", "w"))
"""


def run(user, definition: dict, name: str = "steps") -> tuple[str, dict]:
    pipeline_create(
        user=user,
        spec={
            "PipelineName": name,
            "PipelineDefinition": json.dumps(definition),
            "ClientRequestToken": "p" * 32,
            "RoleArn": ROLE,
        },
    )
    execution = pipeline_execution_start(
        user=user, spec={"PipelineName": name, "ClientRequestToken": "x" * 32}
    )
    status = run_pipeline_execution(execution.pk, poll_seconds=0.01, run_child=IN_PROCESS)
    return status, {s.name: s for s in pipeline_execution_steps(execution)}


def register(model_data_url) -> dict:
    return {
        "ModelPackageGroupName": "churn",
        "ModelApprovalStatus": "PendingManualApproval",
        "InferenceSpecification": {
            "Containers": [{"Image": "lightgbm", "ModelDataUrl": model_data_url}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    }


def test_a_condition_reads_a_processing_steps_property_file(user, data_bucket):
    put_script(data_bucket, EVALUATE, name="evaluate.py")
    arguments = processing_request(data_bucket, script="evaluate.py")
    del arguments["ProcessingJobName"]
    arguments["ProcessingInputs"] = arguments["ProcessingInputs"][1:]  # the code only
    arguments["ProcessingOutputConfig"]["Outputs"][0] = {
        "OutputName": "evaluation",
        "S3Output": {
            "S3Uri": f"s3://{data_bucket}/evaluation",
            "LocalPath": "/opt/ml/processing/evaluation",
            "S3UploadMode": "EndOfJob",
        },
    }
    mse = {
        "Std:JsonGet": {
            "PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"},
            "Path": "regression_metrics.mse.value",
        }
    }
    definition = {
        "Version": "2020-12-01",
        "Steps": [
            {
                "Name": "Evaluate",
                "Type": "Processing",
                "Arguments": arguments,
                "PropertyFiles": [
                    {
                        "PropertyFileName": "EvaluationReport",
                        "OutputName": "evaluation",
                        "FilePath": "evaluation.json",
                    }
                ],
            },
            {
                "Name": "Check",
                "Type": "Condition",
                "Arguments": {
                    "Conditions": [
                        {"Type": "LessThanOrEqualTo", "LeftValue": mse, "RightValue": 6.0}
                    ],
                    "IfSteps": [
                        {
                            "Name": "Output",
                            "Type": "Fail",
                            "Arguments": {
                                "ErrorMessage": {
                                    "Std:Join": {
                                        "On": " ",
                                        "Values": [
                                            "mse",
                                            mse,
                                            "from",
                                            {
                                                "Get": "Steps.Evaluate.ProcessingOutputConfig."
                                                "Outputs['evaluation'].S3Output.S3Uri"
                                            },
                                        ],
                                    }
                                }
                            },
                        }
                    ],
                    "ElseSteps": [],
                },
            },
        ],
    }

    status, steps = run(user, definition)

    assert steps["Evaluate"].status == "Succeeded"
    assert "ProcessingJob" in steps["Evaluate"].metadata
    assert steps["Check"].metadata == {"Condition": {"Outcome": "True"}}
    assert status == "Failed"  # the Fail step in the branch taken says what it read
    assert steps["Output"].failure_reason == f"mse 2.5 from s3://{data_bucket}/evaluation"


def test_the_best_trial_of_a_tuning_step_is_registered_in_a_group_it_creates(user, data_bucket):
    arguments = tuning_request(data_bucket)
    del arguments["HyperParameterTuningJobName"]
    artifact = {
        "Std:Join": {
            "On": "/",
            "Values": [
                f"s3://{data_bucket}/tuning",
                {"Get": "Steps.Tune.BestTrainingJob.TrainingJobName"},
                "output/model.tar.gz",
            ],
        }
    }
    definition = {
        "Version": "2020-12-01",
        "Steps": [
            {"Name": "Tune", "Type": "Tuning", "Arguments": arguments},
            {"Name": "Register", "Type": "RegisterModel", "Arguments": register(artifact)},
        ],
    }

    status, steps = run(user, definition)

    assert status == "Succeeded", {n: s.failure_reason for n, s in steps.items()}
    assert steps["Tune"].metadata["TuningJob"]["Arn"].startswith("arn:aws:sagemaker:")
    assert len(steps["Tune"].properties["TrainingJobSummaries"]) == 4
    best = steps["Tune"].properties["BestTrainingJob"]["TrainingJobName"]
    assert steps["Tune"].properties["TrainingJobSummaries"][0]["TrainingJobName"] == best
    group = model_package_group_get(user=user, name="churn")
    [package] = model_package_list(user=user)
    assert package.group == group and package.version == 1
    assert steps["Register"].metadata == {"RegisterModel": {"Arn": package.arn}}
    url = package.spec["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
    assert url == f"s3://{data_bucket}/tuning/{best}/output/model.tar.gz"
    assert package.source.endswith("/execution/" + steps["Tune"].execution.name)


def test_a_trained_model_gets_an_endpoint_config(user, data_bucket):
    definition = {
        "Version": "2020-12-01",
        "Parameters": [{"Name": "NumRound", "Type": "Integer", "DefaultValue": 2}],
        "Steps": [
            {"Name": "Train", "Type": "Training", "Arguments": training_arguments(data_bucket)},
            {
                "Name": "Model",
                "Type": "Model",
                "Arguments": {
                    "ModelName": "churn-model",
                    "ExecutionRoleArn": ROLE,
                    "PrimaryContainer": {
                        "Image": "lightgbm",
                        "ModelDataUrl": {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"},
                    },
                },
            },
            {
                "Name": "Config",
                "Type": "EndpointConfig",
                "Arguments": {
                    "ProductionVariants": [
                        {
                            "VariantName": "main",
                            "ModelName": {"Get": "Steps.Model.ModelName"},
                            "InitialInstanceCount": 1,
                            "InstanceType": "ml.m5.large",
                        }
                    ]
                },
            },
        ],
    }

    status, steps = run(user, definition)

    assert status == "Succeeded", {n: s.failure_reason for n, s in steps.items()}
    config = steps["Config"].properties
    assert config["ProductionVariants"][0]["ModelName"] == "churn-model"
    assert config["EndpointConfigName"].startswith("pipelines-")
    assert steps["Config"].metadata == {"EndpointConfig": {"Arn": config["EndpointConfigArn"]}}
