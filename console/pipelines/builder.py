"""The console's pipeline builder: the common chain (label → train or tune → register → condition →
model → deploy) written as a SageMaker pipeline definition, the same JSON a user passes to boto3's
``create_pipeline``. Steps reach each other by ``Get`` properties, never by hand-made names."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from console.core.errors import ValidationError
from console.training.forms import ROLE_ARN

VERSION = "2020-12-01"
# Step names, and the names the builder's own checks put on the stage they refuse.
LABEL, TRAIN, TUNE, REGISTER, CHECK = "Label", "Train", "Tune", "Register", "Check"
MODEL, DEPLOY_CONFIG, DEPLOY = "CreateModel", "DeployConfig", "Deploy"
THRESHOLD_PARAMETER = "MetricThreshold"
COMPARISONS = ("GreaterThanOrEqualTo", "GreaterThan", "LessThanOrEqualTo", "LessThan")
SCALING_TYPES = ("Auto", "Linear", "Logarithmic", "ReverseLogarithmic")
CACHE_EXPIRY = "P30D"
MODEL_FILE = "output/model.tar.gz"  # a training job's artifact under <S3OutputPath>/<job name>/


@dataclass(frozen=True)
class Labeling:
    """A labeling job; training then reads its output manifest as an augmented manifest."""

    manifest_uri: str
    label_attribute_name: str
    categories_uri: str
    workteam_arn: str
    pre_human_task_function: str  # e.g. PRE-TextMultiClass: the task type
    output_path: str
    feature_attributes: tuple[str, ...] = ("source",)
    automated_algorithm_arn: str = ""  # automated labeling's algorithm, when on


@dataclass(frozen=True)
class Training:
    image: str
    output_path: str
    train_uri: str = ""  # unused when a labeling stage feeds training
    validation_uri: str = ""
    hyperparameters: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/csv"
    instance_type: str = "ml.m5.large"
    instance_count: int = 1
    max_runtime_s: int = 3600


@dataclass(frozen=True)
class Tuning:
    objective_metric: str
    objective_type: str  # Minimize | Maximize
    parameter_ranges: dict[str, list[dict[str, str]]]  # HyperParameterTuningJobConfig's
    max_jobs: int = 4
    max_parallel_jobs: int = 2


@dataclass(frozen=True)
class Registration:
    group: str
    approval_status: str = "PendingManualApproval"


@dataclass(frozen=True)
class Gate:
    """Deploy only when the metric compares so with the threshold (a pipeline parameter, so an
    execution or a schedule can move it)."""

    comparison: str
    threshold: float
    metric: str = ""  # a training stage's metric; a tuning stage compares its objective


@dataclass(frozen=True)
class Deployment:
    endpoint_name: str
    instance_type: str = "ml.m5.large"
    instance_count: int = 1


@dataclass(frozen=True)
class Chain:
    training: Training
    labeling: Labeling | None = None
    tuning: Tuning | None = None  # tune instead of training once
    registration: Registration | None = None
    gate: Gate | None = None
    model: bool = False
    deployment: Deployment | None = None
    cache: bool = False  # reuse a label/train/tune step whose arguments did not change


def chain_definition(chain: Chain) -> dict[str, Any]:
    """The definition document of ``chain``. Refuses chains whose stages do not fit together,
    naming the stage (``Stages.<step>``)."""
    _check_stages(chain)
    steps: list[dict[str, Any]] = []
    if chain.labeling:
        steps.append(_step(LABEL, "Labeling", _labeling_arguments(chain.labeling), chain.cache))
    trainer = TUNE if chain.tuning else TRAIN
    arguments = (
        _tuning_arguments(chain) if chain.tuning else _training_arguments(chain.training, chain)
    )
    steps.append(_step(trainer, "Tuning" if chain.tuning else "Training", arguments, chain.cache))
    if chain.registration:
        steps.append(_step(REGISTER, "RegisterModel", _register_arguments(chain), cache=False))
    deployment = _deployment_steps(chain)
    parameters = []
    if chain.gate:
        parameters.append(
            {"Name": THRESHOLD_PARAMETER, "Type": "Float", "DefaultValue": chain.gate.threshold}
        )
        steps.append(_gate_step(chain, deployment))
    else:
        steps += deployment
    return {"Version": VERSION, "Metadata": {}, "Parameters": parameters, "Steps": steps}


def create_pipeline_request(
    chain: Chain, *, name: str, description: str = "", indent: int | None = None
) -> dict[str, Any]:
    """The keyword arguments of boto3's ``create_pipeline`` (but ``ClientRequestToken``, which
    boto3 fills in) for ``chain``."""
    request = {
        "PipelineName": name,
        "PipelineDefinition": json.dumps(chain_definition(chain), indent=indent),
        "RoleArn": ROLE_ARN,
    }
    if description:
        request["PipelineDescription"] = description
    return request


def parse_hyperparameters(text: str, *, field_name: str = "HyperParameters") -> dict[str, str]:
    """``name=value`` lines as a HyperParameters map (values are strings on the wire)."""
    pairs: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key, equals, value = line.partition("=")
        if not equals or not key.strip():
            raise ValidationError(field_name, f"Line {number} must be name=value", value=line)
        pairs[key.strip()] = value.strip()
    return pairs


def parse_parameter_ranges(text: str, *, field_name: str = "ParameterRanges") -> dict[str, Any]:
    """Tuning ranges, one a line: ``name=min..max [scaling]`` (integer when both ends are
    integers, else continuous) or ``name=a|b|c`` (categorical)."""
    ranges: dict[str, list[dict[str, Any]]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, equals, body = (part.strip() for part in line.partition("="))
        if not equals or not name or not body:
            rule = f"Line {number} must be name=min..max [scaling] or name=a|b|c"
            raise ValidationError(field_name, rule, value=line)
        if "|" in body or ".." not in body:
            values = [value.strip() for value in body.split("|") if value.strip()]
            ranges.setdefault("CategoricalParameterRanges", []).append(
                {"Name": name, "Values": values}
            )
            continue
        bounds, _, scaling = body.partition(" ")
        low, _, high = (bound.strip() for bound in bounds.partition(".."))
        kind = _range_kind(low, high)
        if kind is None:
            rule = f"Line {number}: min and max must be numbers with min < max"
            raise ValidationError(field_name, rule, value=line)
        scaling = scaling.strip() or "Auto"
        if scaling not in SCALING_TYPES:
            rule = f"Line {number}: the scaling must be one of {', '.join(SCALING_TYPES)}"
            raise ValidationError(field_name, rule, value=scaling)
        ranges.setdefault(kind, []).append(
            {"Name": name, "MinValue": low, "MaxValue": high, "ScalingType": scaling}
        )
    return ranges


def _range_kind(low: str, high: str) -> str | None:
    try:
        if float(low) >= float(high):
            return None
    except ValueError:
        return None
    integers = all(part.lstrip("-").isdigit() for part in (low, high))
    return "IntegerParameterRanges" if integers else "ContinuousParameterRanges"


def _check_stages(chain: Chain) -> None:
    if chain.deployment and not chain.model:
        raise ValidationError(f"Stages.{DEPLOY}", "Deploying to an endpoint needs the Model stage")
    if chain.gate:
        if not chain.model:
            rule = "The condition gates the model and its deployment: choose the Model stage"
            raise ValidationError(f"Stages.{CHECK}", rule)
        if chain.gate.comparison not in COMPARISONS:
            rule = f"Member must be one of {', '.join(COMPARISONS)}"
            raise ValidationError(f"Stages.{CHECK}", rule, value=chain.gate.comparison)
        if not chain.tuning and not chain.gate.metric:
            rule = "Name the training metric the condition compares"
            raise ValidationError(f"Stages.{CHECK}", rule)


def _step(name: str, type_: str, arguments: dict[str, Any], cache: bool) -> dict[str, Any]:
    step = {"Name": name, "Type": type_, "Arguments": arguments}
    if cache:
        step["CacheConfig"] = {"Enabled": True, "ExpireAfter": CACHE_EXPIRY}
    return step


def _labeling_arguments(labeling: Labeling) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "LabelAttributeName": labeling.label_attribute_name,
        "InputConfig": {"DataSource": {"S3DataSource": {"ManifestS3Uri": labeling.manifest_uri}}},
        "OutputConfig": {"S3OutputPath": labeling.output_path},
        "RoleArn": ROLE_ARN,
        "LabelCategoryConfigS3Uri": labeling.categories_uri,
        "HumanTaskConfig": {
            "WorkteamArn": labeling.workteam_arn,
            "UiConfig": {},
            "PreHumanTaskLambdaArn": (
                f"arn:aws:lambda:us-east-1:432418664414:function:{labeling.pre_human_task_function}"
            ),
            "TaskTitle": f"Label {labeling.label_attribute_name}",
            "TaskDescription": f"Choose the {labeling.label_attribute_name} of each item",
            "NumberOfHumanWorkersPerDataObject": 1,
            "TaskTimeLimitInSeconds": 300,
        },
    }
    if labeling.automated_algorithm_arn:
        arguments["LabelingJobAlgorithmsConfig"] = {
            "LabelingJobAlgorithmSpecificationArn": labeling.automated_algorithm_arn
        }
    return arguments


def _channels(chain: Chain) -> list[dict[str, Any]]:
    training = chain.training
    if chain.labeling:
        source: dict[str, Any] = {
            "S3DataType": "AugmentedManifestFile",
            "S3Uri": {"Get": f"Steps.{LABEL}.LabelingJobOutput.OutputDatasetS3Uri"},
            "AttributeNames": [
                *chain.labeling.feature_attributes,
                chain.labeling.label_attribute_name,
            ],
        }
    else:
        source = {"S3DataType": "S3Prefix", "S3Uri": training.train_uri}
    channels = [_channel("train", source, training.content_type)]
    if training.validation_uri:
        validation = {"S3DataType": "S3Prefix", "S3Uri": training.validation_uri}
        channels.append(_channel("validation", validation, training.content_type))
    return channels


def _channel(name: str, source: dict[str, Any], content_type: str) -> dict[str, Any]:
    return {
        "ChannelName": name,
        "ContentType": content_type,
        "DataSource": {"S3DataSource": source},
    }


def _job_definition(chain: Chain) -> dict[str, Any]:
    """What a training job and a tuning job's trials share."""
    training = chain.training
    return {
        "AlgorithmSpecification": {"TrainingImage": training.image, "TrainingInputMode": "File"},
        "RoleArn": ROLE_ARN,
        "InputDataConfig": _channels(chain),
        "OutputDataConfig": {"S3OutputPath": training.output_path},
        "ResourceConfig": {
            "InstanceType": training.instance_type,
            "InstanceCount": training.instance_count,
            "VolumeSizeInGB": 1,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": training.max_runtime_s},
    }


def _training_arguments(training: Training, chain: Chain) -> dict[str, Any]:
    return {**_job_definition(chain), "HyperParameters": dict(training.hyperparameters)}


def _tuning_arguments(chain: Chain) -> dict[str, Any]:
    tuning = chain.tuning
    assert tuning is not None
    tuned = {item["Name"] for items in tuning.parameter_ranges.values() for item in items}
    static = {k: v for k, v in chain.training.hyperparameters.items() if k not in tuned}
    return {
        "HyperParameterTuningJobConfig": {
            "Strategy": "Bayesian",
            "HyperParameterTuningJobObjective": {
                "Type": tuning.objective_type,
                "MetricName": tuning.objective_metric,
            },
            "ResourceLimits": {
                "MaxNumberOfTrainingJobs": tuning.max_jobs,
                "MaxParallelTrainingJobs": tuning.max_parallel_jobs,
            },
            "ParameterRanges": tuning.parameter_ranges,
        },
        "TrainingJobDefinition": {**_job_definition(chain), "StaticHyperParameters": static},
    }


def _model_data_url(chain: Chain) -> Any:
    """The trained model's artifact: the training step's, or the best trial's of a tuning step
    (as the SDK's ``TuningStep.get_top_model_s3_uri`` writes it)."""
    if not chain.tuning:
        return {"Get": f"Steps.{TRAIN}.ModelArtifacts.S3ModelArtifacts"}
    best = {"Get": f"Steps.{TUNE}.BestTrainingJob.TrainingJobName"}
    output = chain.training.output_path.rstrip("/")
    return {"Std:Join": {"On": "/", "Values": [output, best, MODEL_FILE]}}


def _register_arguments(chain: Chain) -> dict[str, Any]:
    registration = chain.registration
    assert registration is not None
    content_types = [chain.training.content_type]
    return {
        "ModelPackageGroupName": registration.group,
        "ModelApprovalStatus": registration.approval_status,
        "InferenceSpecification": {
            "Containers": [{"Image": chain.training.image, "ModelDataUrl": _model_data_url(chain)}],
            "SupportedContentTypes": content_types,
            "SupportedResponseMIMETypes": content_types,
        },
    }


def _deployment_steps(chain: Chain) -> list[dict[str, Any]]:
    if not chain.model:
        return []
    model = {
        "ExecutionRoleArn": ROLE_ARN,
        "PrimaryContainer": {"Image": chain.training.image, "ModelDataUrl": _model_data_url(chain)},
    }
    steps = [_step(MODEL, "Model", model, cache=False)]
    deployment = chain.deployment
    if deployment:
        variant = {
            "VariantName": "AllTraffic",
            "ModelName": {"Get": f"Steps.{MODEL}.ModelName"},
            "InitialInstanceCount": deployment.instance_count,
            "InstanceType": deployment.instance_type,
        }
        endpoint = {
            "EndpointName": deployment.endpoint_name,
            "EndpointConfigName": {"Get": f"Steps.{DEPLOY_CONFIG}.EndpointConfigName"},
        }
        steps.append(
            _step(DEPLOY_CONFIG, "EndpointConfig", {"ProductionVariants": [variant]}, False)
        )
        steps.append(_step(DEPLOY, "Endpoint", endpoint, cache=False))
    return steps


def _gate_step(chain: Chain, gated: list[dict[str, Any]]) -> dict[str, Any]:
    gate = chain.gate
    assert gate is not None
    if chain.tuning:
        metric = {
            "Get": f"Steps.{TUNE}.BestTrainingJob.FinalHyperParameterTuningJobObjectiveMetric.Value"
        }
    else:
        metric = {"Get": f"Steps.{TRAIN}.FinalMetricDataList['{gate.metric}'].Value"}
    condition = {
        "Type": gate.comparison,
        "LeftValue": metric,
        "RightValue": {"Get": f"Parameters.{THRESHOLD_PARAMETER}"},
    }
    arguments = {"Conditions": [condition], "IfSteps": gated, "ElseSteps": []}
    return {"Name": CHECK, "Type": "Condition", "Arguments": arguments}
