"""The whole loop in a real browser alone, against the stack (issue 24): upload the data, train two
jobs and compare them, tune, deploy the best trial, send it a test request, change its instances,
batch transform, and delete the endpoint, confirming it."""

from __future__ import annotations

import uuid

import pytest

from tests.console.test_layout import WIDTH, phone_problems
from tests.datasets import feature_rows
from tests.stack import ADMIN, PASSWORD, STACK_START_S, training_csv

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

# Each job's wait; the training jobs, the tuning job's trials and the transform share 2 cores.
JOB_WAIT_MS = 240_000
ENDPOINT_WAIT_MS = 120_000
RECORD = "0.8,0.1,-0.9,0.0,0.3"  # x1 > x3: the label's rule says 1


def sign_in(page, url: str) -> None:
    page.goto(f"{url}/login/")
    page.fill("#id_username", ADMIN)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


def upload(page, url: str, bucket: str, folder: str, name: str, data: bytes) -> None:
    """``data`` as ``s3://bucket/folder/name``, through the object browser's folder and upload."""
    page.goto(f"{url}/objects/{bucket}/")
    page.fill("#new-folder", folder)
    page.click("text=Create folder")
    page.wait_for_url(f"{url}/objects/{bucket}/{folder}/")
    page.set_input_files("#upload-files", {"name": name, "mimeType": "text/csv", "buffer": data})
    page.click("form.dropzone button[type=submit]")
    page.wait_for_selector(f"table.objects a:has-text('{name}')")


def fill_training_form(page, *, bucket: str, name: str, hyperparameters: str) -> None:
    page.fill("#id_name", name)
    page.fill("#id_hyperparameters", hyperparameters)
    page.fill("#id_train_uri", f"s3://{bucket}/train/")
    page.fill("#id_validation_uri", f"s3://{bucket}/validation/")
    page.fill("#id_output_path", f"s3://{bucket}/models")
    page.click("#request-form button[type=submit]")


def create_tuning_job(page, url: str, *, bucket: str, name: str) -> None:
    """Four Bayesian trials over learning_rate and num_leaves, two at a time."""
    page.goto(f"{url}/tuning-jobs/new")
    page.fill("#id_name", name)
    page.select_option("#id_algorithm", "lightgbm")
    page.wait_for_selector("#ranges tr[data-hyperparameter=num_leaves]")
    for parameter, low, high, scaling in (
        ("learning_rate", "0.0005", "0.3", "Logarithmic"),
        ("num_leaves", "2", "31", "Auto"),
    ):
        page.select_option(f"#id_hp-{parameter}-mode", "tune")
        page.fill(f"#id_hp-{parameter}-min", low)
        page.fill(f"#id_hp-{parameter}-max", high)
        page.select_option(f"#id_hp-{parameter}-scaling", scaling)
    page.select_option("#id_objective_metric", "validation:binary_logloss")
    page.select_option("#id_objective_type", "Minimize")
    page.fill("#id_max_jobs", "4")
    page.fill("#id_max_parallel", "2")
    page.fill("#id_random_seed", "11")
    page.fill("#id_static_hyperparameters", "objective=binary\nnum_boost_round=20\nnum_threads=1")
    page.fill("#id_train_uri", f"s3://{bucket}/train/")
    page.fill("#id_validation_uri", f"s3://{bucket}/validation/")
    page.fill("#id_output_path", f"s3://{bucket}/tuning")
    page.fill("#id_trial_max_runtime", "600")
    page.click("#request-form button[type=submit]")
    page.wait_for_url(f"{url}/tuning-jobs/{name}/")


def check_training_job(page, url: str, name: str) -> None:
    """The finished job's page: status, final metrics, curves, log and timeline."""
    page.goto(f"{url}/training-jobs/{name}/")
    page.wait_for_selector("text=Download model.tar.gz", timeout=JOB_WAIT_MS)
    assert page.locator(".status").inner_text() == "Completed"
    assert "validation:auc" in page.locator("#final-metrics").inner_text()
    assert page.locator(".charts svg polyline").count() >= 1
    assert "Model uploaded" in page.locator("#log").inner_text()
    timeline = page.locator("#timeline").inner_text()
    assert timeline.index("Downloading") < timeline.index("Training") < timeline.index("Uploading")


def check_tuning_job(page, url: str, name: str) -> None:
    """The finished tuning job's page: trials sortable by the objective, the best trial, the
    best-so-far curve, parallel coordinates with toggles and the surrogate plot."""
    page.goto(f"{url}/tuning-jobs/{name}/")
    page.wait_for_selector("#deploy-best", timeout=JOB_WAIT_MS)
    page.reload()  # the charts as drawn from the whole, ended job
    assert page.locator("#status").inner_text().startswith("Completed")
    assert page.locator("#trials tbody tr").count() == 4
    page.click("#trials thead th:nth-child(4)")  # sort by the objective
    values = [float(v) for v in page.locator("#trials tbody td:nth-child(4)").all_inner_texts()]
    assert values == sorted(values)
    best = page.locator("#trials tbody tr").first.locator("td:nth-child(2) a").inner_text()
    assert best in page.locator("#best").inner_text()

    assert page.locator("#best-so-far svg polyline").count() >= 1
    assert page.locator("#parallel polyline").count() == 4
    assert page.locator("#parallel text", has_text="num_leaves").count() == 1
    page.uncheck("#parallel-toggles input[data-parameter=num_leaves]")
    assert page.locator("#parallel text", has_text="num_leaves").count() == 0

    page.wait_for_selector("#surrogate polygon")  # mean ± std band along learning_rate
    assert page.locator("#surrogate polyline").count() == 1
    page.select_option("#surrogate-parameter", "num_leaves")
    page.wait_for_selector("#surrogate text:has-text('num_leaves')")


def wait_for_in_service(page, instances: str) -> None:
    """Until the endpoint's page (refreshing itself) shows it InService with ``instances``
    ("in service / desired") on its one variant."""
    page.wait_for_function(
        """instances => document.querySelector('#status').textContent.trim() === 'InService'
            && document.querySelector('#variants tbody tr td:nth-child(5)')
                .textContent.trim() === instances""",
        arg=instances,
        timeout=ENDPOINT_WAIT_MS,
    )


# The jobs' waits, the endpoint's two, then the page's other steps (Playwright's 30 s each).
@pytest.mark.timeout(STACK_START_S + 720)
def test_the_whole_loop_in_the_console(stack, browser):
    url, page = stack.url, browser.new_page()
    bucket = f"loop-{uuid.uuid4().hex[:8]}"
    sign_in(page, url)

    # 1. A bucket and its data, through the object browser.
    page.goto(f"{url}/objects/")
    page.fill("#new-bucket", bucket)
    page.click("text=Create bucket")
    page.wait_for_url(f"{url}/objects/{bucket}/")
    upload(page, url, bucket, "train", "train.csv", training_csv(400, seed=5))
    upload(page, url, bucket, "validation", "validation.csv", training_csv(200, seed=6))
    records = b"\n".join(feature_rows(20, 5, seed=7)) + b"\n"  # a preview's worth
    upload(page, url, bucket, "batch", "records.csv", records)

    # 2. Two LightGBM jobs from the form; a bad hyperparameter is refused next to its field, as
    # the APIs refuse it. The second is a clone of the first with fewer rounds and leaves.
    page.goto(f"{url}/training-jobs/")
    page.click("a[href='/training-jobs/new']")
    page.select_option("#id_algorithm", "lightgbm")
    fill_training_form(
        page, bucket=bucket, name="loop-lgbm", hyperparameters="num_boost_round=twenty"
    )
    assert "num_boost_round" in page.locator(".errorlist").first.inner_text()
    page.fill("#id_hyperparameters", "num_boost_round=25\nobjective=binary\nmetric=auc")
    page.click("#request-form button[type=submit]")
    page.wait_for_url(f"{url}/training-jobs/loop-lgbm/")
    page.click("#clone")
    fill_training_form(
        page,
        bucket=bucket,
        name="loop-lgbm-small",
        hyperparameters="num_boost_round=10\nnum_leaves=4\nobjective=binary\nmetric=auc",
    )
    page.wait_for_url(f"{url}/training-jobs/loop-lgbm-small/")

    # 3. The tuning job starts now, so that its trials run while the two jobs are looked at.
    create_tuning_job(page, url, bucket=bucket, name="loop-tune")

    check_training_job(page, url, "loop-lgbm")
    page.click("text=Create model")
    page.click("#request-form button[type=submit]")
    page.wait_for_url(f"{url}/models/loop-lgbm-model/")
    page.click("#training-job-link")
    page.wait_for_url(f"{url}/training-jobs/loop-lgbm/")

    page.goto(f"{url}/training-jobs/loop-lgbm-small/")
    page.wait_for_selector("text=Download model.tar.gz", timeout=JOB_WAIT_MS)
    page.goto(f"{url}/training-jobs/")
    page.fill("#filter-name", "loop-lgbm")
    page.click("form.filters button[type=submit]")
    page.check("input[aria-label='Compare loop-lgbm']")
    page.check("input[aria-label='Compare loop-lgbm-small']")
    page.click("text=Compare selected")
    page.wait_for_selector("#compared-jobs")
    compared = page.url.removeprefix(url)
    assert page.locator("#compared-jobs tbody tr").count() == 2
    differing = page.locator("#hyperparameter-diff tr.differs").all_inner_texts()
    assert any("num_boost_round" in row for row in differing)
    assert any("num_leaves" in row for row in differing)
    assert "validation:auc" in page.locator("#final-metrics").inner_text()
    assert page.locator(".charts svg polyline").count() >= 2

    check_tuning_job(page, url, "loop-tune")

    # 4. The best trial on an endpoint, in one step; a test request; two instances.
    page.click("#deploy-best")
    page.fill("#id_endpoint_name", "loop-endpoint")
    page.fill("#id_model_name", "loop-best")
    page.click("#request-form button[type=submit]")
    page.wait_for_url(f"{url}/endpoints/loop-endpoint/")
    wait_for_in_service(page, "1 / 1")
    page.fill("#id_body", RECORD)
    page.click("#test-request button[type=submit]")
    assert "Variant AllTraffic answered" in page.locator("#test-result").inner_text()
    assert 0.0 <= float(page.locator("#test-result pre").inner_text()) <= 1.0
    page.click("#update-weights")
    page.fill("#id_weight_1", "0.5")
    page.fill("#id_count_1", "2")
    page.click("#request-form button[type=submit]")
    page.wait_for_url(f"{url}/endpoints/loop-endpoint/")
    wait_for_in_service(page, "2 / 2")
    assert page.locator("#variants tbody tr td:nth-child(4)").inner_text().endswith("/ 0.5")

    # 5. A batch transform of the records with the deployed model.
    page.goto(f"{url}/transform-jobs/")
    page.click("a[href='/transform-jobs/new']")
    page.fill("#id_name", "loop-batch")
    page.select_option("#id_model_name", "loop-best")
    page.fill("#id_input_uri", f"s3://{bucket}/batch/")
    page.fill("#id_output_path", f"s3://{bucket}/batch-out")
    page.click("#request-form button[type=submit]")
    page.wait_for_url(f"{url}/transform-jobs/loop-batch/")
    page.wait_for_function(
        "document.querySelector('#status').textContent.trim() === 'Completed'",
        timeout=JOB_WAIT_MS,
    )
    output = page.locator("#objects a", has_text="records.csv.out")
    assert output.inner_text() == f"s3://{bucket}/batch-out/records.csv.out"
    output.click()
    assert page.locator("table.preview tr").count() == 20  # one prediction per record

    # The pages the loop went through, at a phone's width: nothing wider than the screen, no
    # serious accessibility violation (the list and form pages are tests/console/test_layout.py's).
    phone = browser.new_context(viewport={"width": WIDTH, "height": 844}).new_page()
    sign_in(phone, url)
    problems = []
    for path in (
        compared,
        "/training-jobs/loop-lgbm/",
        "/tuning-jobs/loop-tune/",
        "/endpoints/loop-endpoint/",
        "/transform-jobs/loop-batch/",
        "/models/loop-best/",
    ):
        phone.goto(f"{url}{path}")
        problems += phone_problems(phone, path)
    phone.context.close()
    assert not problems, "\n".join(problems)

    # 6. The endpoint deleted, once confirmed.
    page.goto(f"{url}/endpoints/loop-endpoint/")
    page.click("text=Delete endpoint")
    page.click("#confirm-yes")
    page.wait_for_url(f"{url}/endpoints/")
    assert "Endpoint loop-endpoint deleted." in page.locator("body").inner_text()
    assert page.locator("a", has_text="loop-endpoint").count() == 0
