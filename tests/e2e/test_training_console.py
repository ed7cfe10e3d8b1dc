"""A training job and its model made through the console in a real browser, against the stack."""

from __future__ import annotations

import uuid

import pytest

from tests.stack import ADMIN, PASSWORD, STACK_START_S, training_csv

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


# Two minutes for the job to finish, the page's other steps 30 s each at the most (Playwright's).
@pytest.mark.timeout(STACK_START_S + 240)
def test_train_and_register_a_model_from_the_console(stack, browser):
    page = browser.new_page()
    bucket = f"console-{uuid.uuid4().hex[:8]}"
    stack.store.create_bucket(bucket)
    stack.store.write_bytes(f"s3://{bucket}/train/data.csv", training_csv(400, seed=5))
    stack.store.write_bytes(f"s3://{bucket}/validation/data.csv", training_csv(200, seed=6))

    page.goto(f"{stack.url}/login/")
    page.fill("#id_username", ADMIN)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{stack.url}/training-jobs/")
    page.click("text=Create")

    # A bad hyperparameter is refused next to its field, as the APIs refuse it.
    page.fill("#id_name", "console-lgbm")
    page.select_option("#id_algorithm", "lightgbm")
    page.fill("#id_hyperparameters", "num_boost_round=twenty")
    page.fill("#id_train_uri", f"s3://{bucket}/train/")
    page.fill("#id_validation_uri", f"s3://{bucket}/validation/")
    page.fill("#id_output_path", f"s3://{bucket}/models")
    page.click("#request-form button[type=submit]")
    assert "num_boost_round" in page.locator(".errorlist").first.inner_text()

    page.fill("#id_hyperparameters", "num_boost_round=25\nobjective=binary\nmetric=auc")
    page.click("#request-form button[type=submit]")
    page.wait_for_url(f"{stack.url}/training-jobs/console-lgbm/")
    page.wait_for_selector("text=Download model.tar.gz", timeout=120_000)

    assert page.locator(".status").inner_text() == "Completed"
    assert "validation:auc" in page.locator("#final-metrics").inner_text()
    assert page.locator(".charts svg polyline").count() >= 1
    assert "Model uploaded" in page.locator("#log").inner_text()
    timeline = page.locator("#timeline").inner_text()
    assert timeline.index("Downloading") < timeline.index("Training") < timeline.index("Uploading")

    page.click("text=Create model")
    page.click("#request-form button[type=submit]")
    page.wait_for_url(f"{stack.url}/models/console-lgbm-model/")
    page.click("#training-job-link")
    page.wait_for_url(f"{stack.url}/training-jobs/console-lgbm/")
