"""A tuning job's console page in a real browser: the trials table sorts, the charts draw."""

from __future__ import annotations

import pytest

from tests.e2e.test_tuning import tuning_request, wait_for
from tests.stack import ADMIN, PASSWORD, STACK_START_S

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


# wait_for's five minutes, then the page's steps (Playwright gives each 30 s at the most).
@pytest.mark.timeout(STACK_START_S + 420)
def test_the_job_page_shows_trials_and_plots(stack, browser, tuning_bucket):
    sm = stack.sagemaker
    request = tuning_request(tuning_bucket, "e2e-plots", jobs=4, parallel=2, rounds=20)
    sm.create_hyper_parameter_tuning_job(**request)
    described = wait_for(sm, "e2e-plots", ("Completed", "Failed", "Stopped"))
    assert described["HyperParameterTuningJobStatus"] == "Completed"

    page = browser.new_page()
    page.goto(f"{stack.url}/login/")
    page.fill("#id_username", ADMIN)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{stack.url}/tuning-jobs/e2e-plots/")

    assert page.locator("#trials tbody tr").count() == 4
    page.click("#trials thead th:nth-child(4)")  # sort by the objective
    values = [float(v) for v in page.locator("#trials tbody td:nth-child(4)").all_inner_texts()]
    assert values == sorted(values)
    assert described["BestTrainingJob"]["TrainingJobName"] in page.locator("#best").inner_text()

    assert page.locator("#best-so-far svg polyline").count() >= 1
    assert page.locator("#parallel polyline").count() == 4
    assert page.locator("#parallel text", has_text="num_leaves").count() == 1
    page.uncheck("#parallel-toggles input[data-parameter=num_leaves]")
    assert page.locator("#parallel text", has_text="num_leaves").count() == 0

    page.wait_for_selector("#surrogate polygon")  # mean ± std band along learning_rate
    assert page.locator("#surrogate polyline").count() == 1
    page.select_option("#surrogate-parameter", "num_leaves")
    page.wait_for_selector("#surrogate text:has-text('num_leaves')")
