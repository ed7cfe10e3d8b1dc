"""The builder's chain as a definition: accepted by the same checks as CreatePipeline, its steps
joined by properties, and the request fit for boto3's ``create_pipeline`` as it is."""

from __future__ import annotations

import json

import botocore.session
import pytest
from botocore.validate import validate_parameters

from console.core.errors import ValidationError
from console.pipelines.builder import (
    Chain,
    Deployment,
    Gate,
    Labeling,
    Registration,
    Training,
    Tuning,
    chain_definition,
    create_pipeline_request,
    parse_hyperparameters,
    parse_parameter_ranges,
)
from console.pipelines.services import pipeline_definition_check

TEAM = "arn:aws:sagemaker:us-east-1:000000000000:workteam/private-crowd/topic-team"
TRAINING = Training(
    image="lightgbm",
    output_path="s3://data/models/",
    train_uri="s3://data/train/",
    validation_uri="s3://data/validation/",
    hyperparameters={"objective": "binary", "num_boost_round": "20", "learning_rate": "0.1"},
)
LABELING = Labeling(
    manifest_uri="s3://data/in/items.manifest",
    label_attribute_name="topic",
    categories_uri="s3://data/in/topics.json",
    workteam_arn=TEAM,
    pre_human_task_function="PRE-TextMultiClass",
    output_path="s3://data/labels",
    feature_attributes=("counts",),
)
TUNING = Tuning(
    objective_metric="validation:binary_logloss",
    objective_type="Minimize",
    parameter_ranges=parse_parameter_ranges(
        "learning_rate=0.01..0.5 Logarithmic\nnum_leaves=2..16"
    ),
)
COMMON_CHAIN = Chain(
    training=TRAINING,
    labeling=LABELING,
    tuning=TUNING,
    registration=Registration(group="topics"),
    gate=Gate(comparison="LessThanOrEqualTo", threshold=0.6),
    model=True,
    deployment=Deployment(endpoint_name="topics-live"),
    cache=True,
)


def steps_of(definition: dict) -> dict[str, dict]:
    found = {}
    for step in definition["Steps"]:
        found[step["Name"]] = step
        if step["Type"] == "Condition":
            for branch in ("IfSteps", "ElseSteps"):
                found.update({s["Name"]: s for s in step["Arguments"][branch]})
    return found


def test_the_common_chain_is_accepted_whole_with_each_step_waiting_on_the_one_before():
    definition = chain_definition(COMMON_CHAIN)
    checked = pipeline_definition_check(definition)

    assert list(checked.steps) == [
        "Label",
        "Tune",
        "Register",
        "Check",
        "CreateModel",
        "DeployConfig",
        "Deploy",
    ]
    types = {name: step.type for name, step in checked.steps.items()}
    assert types == {
        "Label": "Labeling",
        "Tune": "Tuning",
        "Register": "RegisterModel",
        "Check": "Condition",
        "CreateModel": "Model",
        "DeployConfig": "EndpointConfig",
        "Deploy": "Endpoint",
    }
    # Dependencies come from the properties each step reads, as the SDK writes them.
    assert checked.upstream["Label"] == set()
    assert checked.upstream["Tune"] == {"Label"}
    assert checked.upstream["Register"] == {"Tune"}
    assert checked.upstream["Check"] == {"Tune"}
    assert "Tune" in checked.upstream["CreateModel"]
    assert "CreateModel" in checked.upstream["DeployConfig"]
    assert "DeployConfig" in checked.upstream["Deploy"]
    assert checked.steps["CreateModel"].branch == ("Check", True)
    assert checked.steps["Deploy"].branch == ("Check", True)
    assert checked.parameters["MetricThreshold"].default == 0.6


def test_the_chain_reads_labels_as_an_augmented_manifest_and_deploys_the_best_trial():
    steps = steps_of(chain_definition(COMMON_CHAIN))

    job = steps["Tune"]["Arguments"]["TrainingJobDefinition"]
    train = job["InputDataConfig"][0]["DataSource"]["S3DataSource"]
    assert train == {
        "S3DataType": "AugmentedManifestFile",
        "S3Uri": {"Get": "Steps.Label.LabelingJobOutput.OutputDatasetS3Uri"},
        "AttributeNames": ["counts", "topic"],
    }
    assert job["StaticHyperParameters"] == {"objective": "binary", "num_boost_round": "20"}
    config = steps["Tune"]["Arguments"]["HyperParameterTuningJobConfig"]
    assert config["ParameterRanges"] == {
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
    best_model = {
        "Std:Join": {
            "On": "/",
            "Values": [
                "s3://data/models",
                {"Get": "Steps.Tune.BestTrainingJob.TrainingJobName"},
                "output/model.tar.gz",
            ],
        }
    }
    registered = steps["Register"]["Arguments"]["InferenceSpecification"]["Containers"][0]
    assert registered["ModelDataUrl"] == best_model
    model = steps["CreateModel"]["Arguments"]["PrimaryContainer"]
    assert model == {"Image": "lightgbm", "ModelDataUrl": best_model}
    [condition] = steps["Check"]["Arguments"]["Conditions"]
    assert condition["LeftValue"] == {
        "Get": "Steps.Tune.BestTrainingJob.FinalHyperParameterTuningJobObjectiveMetric.Value"
    }
    assert condition["RightValue"] == {"Get": "Parameters.MetricThreshold"}
    assert steps["Check"]["Arguments"]["ElseSteps"] == []  # a weaker model is not deployed
    variant = steps["DeployConfig"]["Arguments"]["ProductionVariants"][0]
    assert variant["ModelName"] == {"Get": "Steps.CreateModel.ModelName"}
    assert steps["Deploy"]["Arguments"] == {
        "EndpointName": "topics-live",
        "EndpointConfigName": {"Get": "Steps.DeployConfig.EndpointConfigName"},
    }
    assert steps["Tune"]["CacheConfig"] == {"Enabled": True, "ExpireAfter": "P30D"}
    assert "CacheConfig" not in steps["Deploy"]


def test_a_training_chain_gates_on_its_named_metric_and_reads_its_own_artifact():
    chain = Chain(
        training=TRAINING,
        gate=Gate(comparison="GreaterThanOrEqualTo", threshold=0.8, metric="validation:auc"),
        model=True,
    )
    definition = chain_definition(chain)
    checked = pipeline_definition_check(definition)

    assert list(checked.steps) == ["Train", "Check", "CreateModel"]
    steps = steps_of(definition)
    train = steps["Train"]["Arguments"]
    assert train["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] == "s3://data/train/"
    assert train["HyperParameters"]["num_boost_round"] == "20"
    assert "CacheConfig" not in steps["Train"]
    [condition] = steps["Check"]["Arguments"]["Conditions"]
    assert condition["LeftValue"] == {
        "Get": "Steps.Train.FinalMetricDataList['validation:auc'].Value"
    }
    assert steps["CreateModel"]["Arguments"]["PrimaryContainer"]["ModelDataUrl"] == {
        "Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"
    }


def test_the_request_is_what_boto3s_create_pipeline_takes():
    request = create_pipeline_request(COMMON_CHAIN, name="topics", description="nightly", indent=2)
    model = botocore.session.get_session().get_service_model("sagemaker")
    shape = model.operation_model("CreatePipeline").input_shape
    validate_parameters({**request, "ClientRequestToken": "t" * 32}, shape)  # raises if not
    assert json.loads(request["PipelineDefinition"]) == chain_definition(COMMON_CHAIN)


def test_stages_that_do_not_fit_together_are_refused_naming_the_stage():
    with pytest.raises(ValidationError) as refused:
        chain_definition(Chain(training=TRAINING, deployment=Deployment(endpoint_name="e")))
    assert refused.value.field == "Stages.Deploy"
    with pytest.raises(ValidationError) as refused:
        chain_definition(Chain(training=TRAINING, gate=Gate("LessThan", 1.0, "m")))
    assert refused.value.field == "Stages.Check"
    with pytest.raises(ValidationError) as refused:
        chain_definition(Chain(training=TRAINING, model=True, gate=Gate("LessThan", 1.0)))
    assert "metric" in refused.value.rule


def test_a_definition_check_failure_names_the_step_and_field():
    bad = Chain(training=Training(image="lightgbm", output_path="s3://d/m", train_uri="nope"))
    with pytest.raises(ValidationError) as refused:
        pipeline_definition_check(chain_definition(bad))
    assert refused.value.field.startswith("Steps.Train.Arguments.InputDataConfig")


def test_ranges_and_hyperparameters_are_read_line_by_line():
    assert parse_parameter_ranges("booster=gbtree|dart\n\nalpha=-1..1.5") == {
        "CategoricalParameterRanges": [{"Name": "booster", "Values": ["gbtree", "dart"]}],
        "ContinuousParameterRanges": [
            {"Name": "alpha", "MinValue": "-1", "MaxValue": "1.5", "ScalingType": "Auto"}
        ],
    }
    for bad in ("eta", "eta=0.5..0.1", "eta=a..b", "eta=0.1..0.5 Cubic"):
        with pytest.raises(ValidationError) as refused:
            parse_parameter_ranges(bad)
        assert refused.value.field == "ParameterRanges"
    assert parse_hyperparameters("a = 1\n\nb=x=y") == {"a": "1", "b": "x=y"}
    with pytest.raises(ValidationError, match="Line 2 must be name=value"):
        parse_hyperparameters("a=1\nb")


@pytest.mark.django_db
def test_a_built_chain_runs_and_creates_the_model_only_when_the_metric_passes(user, data_bucket):
    from console.pipelines.selectors import pipeline_execution_steps
    from console.pipelines.services import pipeline_create, pipeline_execution_start
    from flows.pipelines import run_pipeline_execution
    from flows.training import run_training_job

    training = Training(
        image="lightgbm",
        output_path=f"s3://{data_bucket}/models",
        train_uri=f"s3://{data_bucket}/train/",
        validation_uri=f"s3://{data_bucket}/validation/",
        hyperparameters={"objective": "binary", "num_boost_round": "5"},
    )
    chain = Chain(
        training=training,
        registration=Registration(group="built"),
        gate=Gate("LessThanOrEqualTo", 10.0, "validation:binary_logloss"),
        model=True,
        cache=True,
    )
    request = create_pipeline_request(chain, name="built")
    pipeline_create(user=user, spec={**request, "ClientRequestToken": "b" * 32})

    def execute(threshold: str) -> dict:
        execution = pipeline_execution_start(
            user=user,
            spec={
                "PipelineName": "built",
                "ClientRequestToken": threshold.ljust(32, "t"),
                "PipelineParameters": [{"Name": "MetricThreshold", "Value": threshold}],
            },
        )
        status = run_pipeline_execution(
            execution.pk, poll_seconds=0.01, run_child={"Training": run_training_job}
        )
        assert status == "Succeeded"
        return {step.name: step for step in pipeline_execution_steps(execution)}

    passed = execute("10.0")
    assert passed["Check"].metadata == {"Condition": {"Outcome": "True"}}
    assert passed["Register"].status == "Succeeded"
    assert passed["CreateModel"].status == "Succeeded"

    failed = execute("0.0")  # no model is that good: registered, not turned into a model
    assert failed["Train"].cache_source_arn  # the same training arguments: reused
    assert failed["Check"].metadata == {"Condition": {"Outcome": "False"}}
    assert failed["Register"].status == "Succeeded"
    assert "CreateModel" not in failed
