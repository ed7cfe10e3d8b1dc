"""What a pipeline definition must be: each refusal names the step and the field."""

from __future__ import annotations

import pytest

from console.core.errors import ValidationError
from console.pipelines.definition import parse_duration
from console.pipelines.expressions import Context, evaluate_conditions, parameter_values, resolve
from console.pipelines.services import pipeline_definition_check
from tests.console.pipelines.definitions import chain, with_changes

BUCKET = "data"


def refused(change) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        pipeline_definition_check(with_changes(chain(BUCKET), change))
    return caught.value


def train(d):
    return d["Steps"][0]


def condition(d):
    return d["Steps"][1]["Arguments"]["Conditions"][0]


def test_the_chain_is_accepted_with_its_graph():
    definition = pipeline_definition_check(chain(BUCKET))
    assert list(definition.steps) == ["Train", "Check", "Model", "TooWeak"]
    assert definition.upstream == {
        "Train": set(),
        "Check": {"Train"},
        "Model": {"Check", "Train"},
        "TooWeak": {"Check"},
    }
    assert definition.steps["Model"].branch == ("Check", True)
    assert definition.steps["TooWeak"].branch == ("Check", False)


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        (lambda d: d.update(Version="2021-01-01"), "PipelineDefinition.Version", "2020-12-01"),
        (
            lambda d: d["Parameters"].append({"Name": "NumRound", "Type": "Integer"}),
            "Parameters[NumRound].Name",
            "unique",
        ),
        (
            lambda d: d["Parameters"][0].update(Type="Long"),
            "Parameters[NumRound].Type",
            "enum",
        ),
        (
            lambda d: d["Parameters"][0].update(DefaultValue="five"),
            "Parameters[NumRound].DefaultValue",
            "Integer",
        ),
        (
            lambda d: d["Steps"].append(dict(train(d))),
            "Steps.Train.Name",
            "unique",
        ),
        (lambda d: train(d).update(Type="Lambda"), "Steps.Train.Type", "not supported"),
        (lambda d: train(d).update(Type="Trainer"), "Steps.Train.Type", "enum"),
        (
            lambda d: train(d)["Arguments"]["HyperParameters"].update(
                num_boost_round={"Get": "Parameters.Rounds"}
            ),
            "Steps.Train.Arguments.HyperParameters.num_boost_round.Get",
            "parameter",
        ),
        (
            lambda d: condition(d).update(LeftValue={"Get": "Steps.Tune.BestTrainingJob"}),
            "Steps.Check.Arguments.Conditions[0].LeftValue.Get",
            "name a step",
        ),
        (
            lambda d: condition(d).update(LeftValue={"Get": "Steps.Train.ModelArtefacts"}),
            "Steps.Check.Arguments.Conditions[0].LeftValue.Get",
            "'ModelArtefacts' is not one of its properties",
        ),
        (
            lambda d: condition(d).update(LeftValue={"Get": "Steps.Train.ModelArtifacts.S3Uri"}),
            "Steps.Check.Arguments.Conditions[0].LeftValue.Get",
            "'S3Uri' is not a member of ModelArtifacts",
        ),
        (lambda d: condition(d).pop("RightValue"), "Conditions[0].RightValue", "not be null"),
        (lambda d: condition(d).update(Type="Around"), "Conditions[0].Type", "enum"),
        (lambda d: train(d).update(DependsOn=["Nowhere"]), "Steps.Train.DependsOn", "name a step"),
        (
            lambda d: train(d)["Arguments"]["ResourceConfig"].update(InstanceCount="one"),
            "Steps.Train.Arguments.ResourceConfig.InstanceCount",
            "integer",
        ),
        (
            lambda d: train(d)["Arguments"].pop("StoppingCondition"),
            "Steps.Train.Arguments.StoppingCondition",
            "not be null",
        ),
        (
            lambda d: train(d).update(CacheConfig={"Enabled": True, "ExpireAfter": "1 hour"}),
            "Steps.Train.CacheConfig.ExpireAfter",
            "ISO-8601",
        ),
        (
            lambda d: train(d).update(
                RetryPolicies=[{"ExceptionType": ["Step.EVERYTHING"], "MaxAttempts": 2}]
            ),
            "Steps.Train.RetryPolicies[0].ExceptionType",
            "enum",
        ),
        (
            lambda d: d["Steps"][1]["Arguments"]["IfSteps"].append(
                {"Name": "Inner", "Type": "Condition", "Arguments": {"Conditions": []}}
            ),
            "Steps.Inner.Type",
            "inside another Condition",
        ),
    ],
)
def test_bad_definitions_are_refused_naming_the_step_and_field(change, field, rule):
    error = refused(change)
    assert field in error.field
    assert rule in error.message


def test_a_cycle_is_refused_naming_its_steps():
    def cycle(d):
        train(d)["DependsOn"] = ["Model"]

    error = refused(cycle)
    assert "cycle" in error.message
    for name in ("Train", "Check", "Model"):
        assert name in error.message


def test_a_property_of_a_list_item_by_name_is_accepted():
    pipeline_definition_check(chain(BUCKET))  # FinalMetricDataList['validation:...'].Value
    with_index = with_changes(
        chain(BUCKET),
        lambda d: condition(d).update(
            LeftValue={"Get": "Steps.Train.FinalMetricDataList[0].Value"}
        ),
    )
    pipeline_definition_check(with_index)


def test_parameters_are_typed_and_defaults_filled():
    definition = pipeline_definition_check(chain(BUCKET))
    values = parameter_values(definition.parameters, [{"Name": "NumRound", "Value": "7"}])
    assert values == {"NumRound": 7, "Threshold": 1.0}
    with pytest.raises(ValidationError, match="Integer"):
        parameter_values(definition.parameters, [{"Name": "NumRound", "Value": "seven"}])
    with pytest.raises(ValidationError, match="parameter of the pipeline"):
        parameter_values(definition.parameters, [{"Name": "Rounds", "Value": "7"}])


def test_expressions_and_conditions_evaluate_against_the_execution():
    properties = {"Train": {"FinalMetricDataList": [{"MetricName": "m", "Value": 0.3}]}}
    context = Context(
        parameters={"Threshold": 0.5, "Name": "x"},
        execution={"PipelineExecutionId": "abc"},
        properties=properties.__getitem__,
        read_json=lambda uri: {"metrics": {"mse": {"value": 2.5}}},
    )
    joined = {
        "Std:Join": {"On": "/", "Values": ["s3://b", {"Get": "Execution.PipelineExecutionId"}]}
    }
    assert resolve(joined, context) == "s3://b/abc"
    metric = {"Get": "Steps.Train.FinalMetricDataList['m'].Value"}
    read = {"Std:JsonGet": {"S3Uri": "s3://b/e.json", "Path": "metrics.mse.value"}}
    assert resolve(read, context) == 2.5
    less = {"Type": "LessThan", "LeftValue": metric, "RightValue": {"Get": "Parameters.Threshold"}}
    assert evaluate_conditions([less], context)
    assert not evaluate_conditions([{"Type": "Not", "Condition": less}], context)
    inside = {"Type": "In", "QueryValue": {"Get": "Parameters.Name"}, "Values": ["y", "x"]}
    assert evaluate_conditions([{"Type": "Or", "Conditions": [inside]}], context)


def test_durations():
    assert parse_duration("PT1H").total_seconds() == 3600
    assert parse_duration("P30D").days == 30
    with pytest.raises(ValueError):
        parse_duration("PT")
