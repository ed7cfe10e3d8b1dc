"""Pipeline definitions the pipeline tests share: a training step, a condition on its metric, a
model when it holds and a failure when it does not."""

from __future__ import annotations

import copy
import json
from typing import Any

from tests.flows.test_training import request as training_request

ROLE = "arn:aws:iam::000000000000:role/sagebrush"
METRIC = "validation:binary_logloss"


def training_arguments(bucket: str) -> dict[str, Any]:
    """A small LightGBM job whose rounds come from the NumRound parameter; no name (the pipeline
    generates one)."""
    arguments = training_request(bucket)
    del arguments["TrainingJobName"]
    arguments["AlgorithmSpecification"]["TrainingImage"] = "lightgbm"
    arguments["HyperParameters"] = {
        "num_boost_round": {"Get": "Parameters.NumRound"},
        "objective": "binary",
    }
    arguments["OutputDataConfig"]["S3OutputPath"] = {
        "Std:Join": {
            "On": "/",
            "Values": [f"s3://{bucket}", "pipelines", {"Get": "Execution.PipelineExecutionId"}],
        }
    }
    return arguments


def chain(bucket: str, *, threshold: float = 1.0, cache: bool = False) -> dict[str, Any]:
    """Train → Check (validation log-loss <= Threshold) → create a model, else Fail."""
    train = {"Name": "Train", "Type": "Training", "Arguments": training_arguments(bucket)}
    if cache:
        train["CacheConfig"] = {"Enabled": True, "ExpireAfter": "PT1H"}
    return {
        "Version": "2020-12-01",
        "Metadata": {},
        "Parameters": [
            {"Name": "NumRound", "Type": "Integer", "DefaultValue": 5},
            {"Name": "Threshold", "Type": "Float", "DefaultValue": threshold},
        ],
        "Steps": [
            train,
            {
                "Name": "Check",
                "Type": "Condition",
                "Arguments": {
                    "Conditions": [
                        {
                            "Type": "LessThanOrEqualTo",
                            "LeftValue": {
                                "Get": f"Steps.Train.FinalMetricDataList['{METRIC}'].Value"
                            },
                            "RightValue": {"Get": "Parameters.Threshold"},
                        }
                    ],
                    "IfSteps": [
                        {
                            "Name": "Model",
                            "Type": "Model",
                            "Arguments": {
                                "ExecutionRoleArn": ROLE,
                                "PrimaryContainer": {
                                    "Image": "lightgbm",
                                    "ModelDataUrl": {
                                        "Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"
                                    },
                                },
                            },
                        }
                    ],
                    "ElseSteps": [
                        {
                            "Name": "TooWeak",
                            "Type": "Fail",
                            "Arguments": {
                                "ErrorMessage": {
                                    "Std:Join": {
                                        "On": " ",
                                        "Values": [
                                            "Log-loss above",
                                            {"Get": "Parameters.Threshold"},
                                        ],
                                    }
                                }
                            },
                        }
                    ],
                },
            },
        ],
    }


def with_changes(definition: dict[str, Any], change) -> dict[str, Any]:
    changed = copy.deepcopy(definition)
    change(changed)
    return changed


def text(definition: dict[str, Any]) -> str:
    return json.dumps(definition)
