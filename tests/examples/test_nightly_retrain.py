"""The shipped nightly-retrain example (``examples/nightly_retrain``) stays a definition this
platform accepts, and its condition deploys only a model better than the live one. The whole
chain runs against the stack in ``tests/e2e/test_pipeline_chain.py``."""

from __future__ import annotations

import json

import pytest

from console.pipelines.expressions import Context, evaluate_conditions, parameter_values
from console.pipelines.services import pipeline_definition_check
from tests.stack import REPO

DEFINITION = REPO / "examples" / "nightly_retrain" / "pipeline.json"


@pytest.fixture(scope="module")
def definition():
    return pipeline_definition_check(DEFINITION.read_text())


def test_the_example_is_the_issue_chain_with_deployment_in_the_condition_branch(definition):
    assert list(definition.steps) == [
        "Label",
        "Tune",
        "Register",
        "BeatsLive",
        "Model",
        "DeployConfig",
        "Deploy",
        "RecordLive",
    ]
    types = {name: step.type for name, step in definition.steps.items()}
    assert types["Label"] == "Labeling" and types["Deploy"] == "Endpoint"
    ups = definition.upstream
    assert ups["Tune"] == {"Label"} and "Tune" in ups["Register"]
    assert "Register" in ups["BeatsLive"] and "Deploy" in ups["RecordLive"]
    for name in ("Model", "DeployConfig", "Deploy", "RecordLive"):
        assert definition.steps[name].branch == ("BeatsLive", True), name
    for name in ("Label", "Tune", "Register"):
        assert definition.steps[name].cache_enabled, name


def test_only_a_start_naming_the_work_team_runs(definition):
    with pytest.raises(Exception, match="WorkteamArn"):
        parameter_values(definition.parameters, [])
    values = parameter_values(definition.parameters, [{"Name": "WorkteamArn", "Value": "arn:team"}])
    assert values["LivePrefix"] == "s3://retrain/live" and values["HumanTaskBatch"] == 100


@pytest.mark.parametrize(("new", "live", "deploys"), [(0.4, 0.5, True), (0.5, 0.5, False)])
def test_the_new_model_is_deployed_only_when_its_loss_beats_the_live_one(
    definition, new, live, deploys
):
    parameters = parameter_values(
        definition.parameters, [{"Name": "WorkteamArn", "Value": "arn:team"}]
    )
    read = {"s3://retrain/live/objective.json": {"objective": live}}
    tuned = {"BestTrainingJob": {"FinalHyperParameterTuningJobObjectiveMetric": {"Value": new}}}
    context = Context(
        parameters=parameters,
        execution={},
        properties={"Tune": tuned}.__getitem__,
        read_json=read.__getitem__,
        definition=definition,
    )
    conditions = definition.steps["BeatsLive"].arguments["Conditions"]
    assert evaluate_conditions(conditions, context) is deploys


def test_the_seeded_live_loss_is_one_every_model_beats():
    from importlib.util import module_from_spec, spec_from_file_location

    spec = spec_from_file_location("create_pipeline", DEFINITION.parent / "create_pipeline.py")
    script = module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.definition() == json.loads(DEFINITION.read_text())
    assert script.NO_LIVE_MODEL["objective"] > 100
