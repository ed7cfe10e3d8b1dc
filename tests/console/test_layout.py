"""The console at a phone's width (390 px) in a real browser (Debian's Chromium, Playwright): no
page is wider than the screen, however long a description, an ARN or an object key,
axe-core finds no serious accessibility violation, and a destructive action asks first.
axe-core is the npm package's own file, vendored in tests/console/vendor (no CDN at test time).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from console.accounts.services import access_key_create
from console.core.names import account_id_for, arn
from console.pipelines.services import pipeline_create
from console.registry.services import model_create
from console.training.models import TrainingJob
from infra.storage import get_store
from tests.console.pipelines.definitions import chain

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
WIDTH = 390
LONG = ("a-very-long-description-without-any-space-" * 8)[:200]  # a key segment is a file name


@pytest.fixture(autouse=True)
def _playwright_may_run_beside_django(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run
    # under one unless told the calls are made from synchronous test code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _content(user) -> list[str]:
    """Rows with the longest words a user writes, and the pages that show them."""
    access_key_create(user=user, description=LONG)
    name = "job-with-a-name-as-long-as-sagemaker-allows-it-sixty-three-chr"
    TrainingJob.objects.create(
        owner=user,
        name=name,
        arn=arn("training-job", name, account_id=account_id_for(user.pk)),
        status="Failed",
        failure_reason="AlgorithmError: " + LONG,
        spec={"AlgorithmSpecification": {"TrainingImage": "xgboost:1"}},
    )
    bucket = "layout-" + str(user.pk)
    get_store().create_bucket(bucket)
    from console.buckets.models import Bucket

    Bucket.objects.get_or_create(name=bucket, defaults={"owner": user})
    key = f"{LONG}/{LONG}.csv"
    get_store().write_bytes(f"s3://{bucket}/{key}", b"1,2,3\n" * 5)
    artifact = f"s3://{bucket}/{LONG}/model.tar.gz"
    get_store().write_bytes(artifact, b"a model")
    model_create(
        user=user,
        spec={
            "ModelName": name,
            "PrimaryContainer": {"Image": "lightgbm", "ModelDataUrl": artifact},
        },
    )
    pipeline_create(
        user=user,
        spec={
            "PipelineName": name,
            "PipelineDescription": LONG,
            "PipelineDefinition": json.dumps(chain(bucket)),
            "RoleArn": "arn:aws:iam::000000000000:role/sagebrush",
            "ClientRequestToken": "layout-" + "0" * 25,
        },
    )
    return [
        "/",
        "/training-jobs/",
        "/tuning-jobs/",
        "/models/",
        "/endpoints/",
        "/access-keys/",
        "/objects/",
        f"/objects/{bucket}/{LONG}/",
        f"/objects/preview?uri=s3://{bucket}/{key}",
        "/status/",
        # Details and forms: the long name and failure reason, every create form.
        f"/training-jobs/{name}/",
        f"/models/{name}/",
        f"/pipelines/{name}/",
        "/training-jobs/new",
        "/tuning-jobs/new",
        "/models/new",
        "/endpoint-configs/",
        "/endpoint-configs/new",
        "/endpoints/new",
        "/transform-jobs/",
        "/transform-jobs/new",
        "/processing-jobs/",
        "/processing-jobs/new",
        "/labeling-jobs/",
        "/labeling-jobs/new/",
        "/workteams/",
        "/workteams/new/",
        "/pipelines/",
        "/pipelines/new",
        "/model-package-groups/",
    ]


def test_pages_fit_a_phone_and_pass_axe(browser, live_server, user):
    pages = _content(user)
    context = browser.new_context(viewport={"width": WIDTH, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    phone_problems(page, "/login/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", "correct horse 9")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    problems = []
    for path in pages:
        page.goto(f"{live_server.url}{path}")
        problems += phone_problems(page, path)
    assert not problems, "\n".join(problems)

    # A destructive action asks first: Cancel leaves the key active, "Yes" revokes it.
    page.goto(f"{live_server.url}/access-keys/")
    page.click("text=Revoke")
    page.click("dialog >> text=Cancel")
    assert page.locator("td .up").count() == 1
    page.click("text=Revoke")
    page.click("dialog >> text=Yes, go on")
    page.wait_for_selector("text=revoked")
    assert page.locator("td .up").count() == 0
    context.close()


def phone_problems(page, path: str) -> list[str]:
    problems = []
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > WIDTH:
        # The deepest elements that reach past the screen: where the overflow starts.
        culprits = page.evaluate(
            f"""() => [...document.querySelectorAll('body *')]
              .filter(e => e.getBoundingClientRect().right > {WIDTH} + 1)
              .filter(e => ![...e.children].some(
                  c => c.getBoundingClientRect().right > {WIDTH} + 1))
              .slice(0, 5)
              .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                   + (e.className ? '.' + String(e.className).split(' ').join('.') : ''))"""
        )
        problems.append(f"{path} is {width} px wide at {WIDTH} px: {', '.join(culprits)}")
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => v.id + ': ' + v.help + ' at ' + v.nodes.map(n => n.target.join(' ')).join(', '))"
    )
    problems += [f"{path}: {violation}" for violation in violations]
    return problems
