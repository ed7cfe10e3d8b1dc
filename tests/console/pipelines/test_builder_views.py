"""The builder's page: a preview of the definition and its graph, a pipeline created through
CreatePipeline's service, and refusals shown next to the field that made the refused part."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group

from console.labeling.services.workteams import workteam_create
from console.pipelines.models import Pipeline

pytestmark = pytest.mark.django_db

TRAIN_AND_DEPLOY = {
    "name": "churn-chain",
    "description": "train, check, deploy",
    "trainer": "training",
    "algorithm": "lightgbm",
    "hyperparameters": "objective=binary\nnum_boost_round=10",
    "train_uri": "s3://data/train/",
    "validation_uri": "s3://data/validation/",
    "content_type": "text/csv",
    "output_path": "s3://data/models",
    "instance_type": "ml.m5.large",
    "instance_count": "1",
    "max_runtime": "600",
    "objective_type": "Minimize",
    "max_jobs": "4",
    "max_parallel_jobs": "2",
    "label_task_type": "PRE-TextMultiClass",
    "label_feature_attributes": "source",
    "approval_status": "PendingManualApproval",
    "register": "on",
    "model_package_group": "churn",
    "condition": "on",
    "condition_metric": "validation:binary_logloss",
    "comparison": "LessThanOrEqualTo",
    "threshold": "0.7",
    "model": "on",
    "deploy": "on",
    "endpoint_name": "churn-live",
    "endpoint_instance_type": "ml.m5.large",
    "endpoint_instance_count": "1",
}


def errors_of(response, field: str) -> str:
    return " ".join(response.context["form"].errors.get(field, []))


@pytest.fixture
def console(client, user):
    client.force_login(user)
    return client


def test_the_list_links_the_builder_and_the_builder_shows_every_stage(console):
    assert 'href="/pipelines/new"' in console.get("/pipelines/").content.decode()
    page = console.get("/pipelines/new").content.decode()
    for stage in ("label", "train", "register", "condition", "model"):
        assert f'id="stage-{stage}"' in page
    assert "pipelines/builder.js" in page


def test_preview_shows_the_definition_and_its_graph_without_creating(console):
    response = console.post("/pipelines/new", {**TRAIN_AND_DEPLOY, "preview": "1"})

    assert response.status_code == 200
    assert not Pipeline.objects.exists()
    definition = json.loads(response.context["preview"]["json"])
    assert [step["Name"] for step in definition["Steps"]] == ["Train", "Register", "Check"]
    page = response.content.decode()
    for step in ("Train", "Register", "Check", "CreateModel", "DeployConfig", "Deploy"):
        assert f'data-step="{step}"' in page
    assert "definition-preview" in page


def test_good_input_creates_the_pipeline_and_goes_to_its_page(console, user):
    response = console.post("/pipelines/new", {**TRAIN_AND_DEPLOY, "create": "1"})

    assert response.status_code == 302
    assert response["Location"] == "/pipelines/churn-chain/"
    pipeline = Pipeline.objects.get(owner=user, name="churn-chain")
    assert pipeline.description == "train, check, deploy"
    steps = {step["Name"]: step for step in pipeline.definition["Steps"]}
    assert steps["Train"]["Arguments"]["HyperParameters"]["num_boost_round"] == "10"
    [gated] = [steps["Check"]["Arguments"]["IfSteps"]]
    assert [step["Name"] for step in gated] == ["CreateModel", "DeployConfig", "Deploy"]
    page = console.get(response["Location"]).content.decode()
    assert 'data-step="Deploy"' in page


def test_a_labeled_and_tuned_chain_labels_first_and_registers_the_best_trial(console, user):
    Group.objects.create(name="labelers")
    team = workteam_create(
        user=user,
        spec={
            "WorkteamName": "reviewers",
            "Description": "Film reviewers",
            "MemberDefinitions": [{"OidcMemberDefinition": {"Groups": ["labelers"]}}],
        },
    )
    chain = {
        **TRAIN_AND_DEPLOY,
        "train_uri": "",
        "label": "on",
        "label_manifest_uri": "s3://data/in/films.manifest",
        "label_attribute_name": "sentiment",
        "label_categories_uri": "s3://data/in/labels.json",
        "label_workteam": team.arn,
        "label_output_path": "s3://data/labels",
        "label_feature_attributes": "",
        "label_automated": "on",
        "trainer": "tuning",
        "objective_metric": "validation:binary_logloss",
        "parameter_ranges": "learning_rate=0.01..0.3 Logarithmic",
        "create": "1",
    }
    response = console.post("/pipelines/new", chain)

    assert response.status_code == 302, response.context["form"].errors
    steps = {step["Name"]: step for step in Pipeline.objects.get().definition["Steps"]}
    assert list(steps) == ["Label", "Tune", "Register", "Check"]
    label = steps["Label"]["Arguments"]
    assert label["HumanTaskConfig"]["WorkteamArn"] == team.arn
    assert label["LabelingJobAlgorithmsConfig"]["LabelingJobAlgorithmSpecificationArn"].endswith(
        "/text-classification"
    )
    job = steps["Tune"]["Arguments"]["TrainingJobDefinition"]
    source = job["InputDataConfig"][0]["DataSource"]["S3DataSource"]
    assert source["AttributeNames"] == ["source", "sentiment"]
    ranges = steps["Tune"]["Arguments"]["HyperParameterTuningJobConfig"]["ParameterRanges"]
    assert ranges["ContinuousParameterRanges"][0]["Name"] == "learning_rate"


def test_a_part_the_definition_check_refuses_is_shown_next_to_its_field(console):
    response = console.post(
        "/pipelines/new", {**TRAIN_AND_DEPLOY, "instance_type": "ml.tiny", "create": "1"}
    )

    assert response.status_code == 200
    assert not Pipeline.objects.exists()
    assert "InstanceType" in errors_of(response, "instance_type")
    assert 'id="field-instance_type"' in response.content.decode()


def test_a_chosen_stage_needs_its_fields_and_the_stages_must_fit(console):
    missing = {**TRAIN_AND_DEPLOY, "endpoint_name": "", "create": "1"}
    response = console.post("/pipelines/new", missing)
    assert "required" in errors_of(response, "endpoint_name")

    no_model = {key: value for key, value in TRAIN_AND_DEPLOY.items() if key != "model"}
    response = console.post("/pipelines/new", {**no_model, "create": "1"})
    assert "Model stage" in errors_of(response, "deploy")

    bad_ranges = {**TRAIN_AND_DEPLOY, "trainer": "tuning", "objective_metric": "m"}
    response = console.post("/pipelines/new", {**bad_ranges, "parameter_ranges": "eta=1..0"})
    assert "min < max" in errors_of(response, "parameter_ranges")
    assert not Pipeline.objects.exists()


def test_a_name_taken_already_is_refused_next_to_the_name(console):
    console.post("/pipelines/new", {**TRAIN_AND_DEPLOY, "create": "1"})
    response = console.post("/pipelines/new", {**TRAIN_AND_DEPLOY, "create": "1"})
    assert response.status_code == 200
    assert "already exists" in " ".join(response.context["form"].non_field_errors())
