"""A pipeline made with the console's builder in a real browser, against the stack: the stages
picked, a refused field shown next to it, the definition previewed, and the new pipeline's graph."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.stack import ADMIN, PASSWORD, STACK_START_S

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.mark.timeout(STACK_START_S + 120)
def test_build_a_train_check_deploy_pipeline_and_see_its_graph(stack, browser):
    page = browser.new_page()
    bucket = f"builder-{uuid.uuid4().hex[:8]}"
    name = f"built-{uuid.uuid4().hex[:6]}"

    page.goto(f"{stack.url}/login/")
    page.fill("#id_username", ADMIN)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{stack.url}/pipelines/")
    page.click("text=Create")
    page.wait_for_url(f"{stack.url}/pipelines/new")

    # A stage's fields show once the stage is picked.
    assert page.is_hidden("#id_endpoint_name")
    page.fill("#id_name", name)
    page.select_option("#id_algorithm", "lightgbm")
    page.fill("#id_hyperparameters", "objective=binary\nnum_boost_round=10")
    page.fill("#id_train_uri", f"s3://{bucket}/train/")
    page.fill("#id_validation_uri", f"s3://{bucket}/validation/")
    page.fill("#id_output_path", f"s3://{bucket}/models")
    page.check("#id_condition")
    page.fill("#id_condition_metric", "validation:binary_logloss")
    page.select_option("#id_comparison", "LessThanOrEqualTo")
    page.fill("#id_threshold", "0.7")
    page.check("#id_model")
    page.check("#id_deploy")
    assert page.is_visible("#id_endpoint_name")

    # CreatePipeline's check refuses the endpoint's name; the builder shows it next to the field.
    page.fill("#id_endpoint_name", "not_a_name!")
    page.click("#create-button")
    assert "EndpointName" in page.locator("#field-endpoint_name .errorlist").inner_text()

    page.fill("#id_endpoint_name", "built-live")
    page.click("#preview-button")
    definition = json.loads(page.locator("#definition-preview").inner_text())
    assert [step["Name"] for step in definition["Steps"]] == ["Train", "Check"]
    assert page.locator("#step-graph g.step").count() == 5

    page.click("#create-button")
    page.wait_for_url(f"{stack.url}/pipelines/{name}/")
    steps = page.locator("#step-graph g.step")
    names = [steps.nth(i).get_attribute("data-step") for i in range(steps.count())]
    assert names == ["Train", "Check", "CreateModel", "DeployConfig", "Deploy"]
    assert page.locator("#step-graph line").count() >= 4  # each step but the first waits on one
