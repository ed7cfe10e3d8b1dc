"""Labeling in the console, in a real browser (Debian's Chromium, driven by Playwright) against
the real views: an owner makes a work team and a small text-classification job, a labeler labels
with the keyboard and undoes one answer, and the owner's job page shows the counters move.

The live server runs the console's views; the labeling flow's first step (read the manifest, send
every item to the work team) is taken here through its services, as the flow takes it."""

from __future__ import annotations

import json
import uuid

import pytest
from django.contrib.auth.models import Group

from console.labeling.models import HumanAnswer, LabelingJob
from console.labeling.services import labeling_items_send_to_humans, labeling_job_start
from infra.storage import get_store
from tests.conftest import owned_bucket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXTS = ["a wonderful film", "a tedious plot", "loved every minute", "fell asleep"]
LABELER, LABELER_PASSWORD = "lin", "lin's horse 42"


@pytest.fixture(autouse=True)
def _playwright_may_run_beside_django(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run
    # under one unless told the calls are made from synchronous test code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _flow_runs_start(monkeypatch):
    # No Prefect here: a started run is only an id, and the test takes the flow's first step.
    monkeypatch.setattr("infra.prefect.start_flow_run", lambda *args, **kwargs: uuid.uuid4())


@pytest.fixture
def labeler(django_user_model):
    group = Group.objects.create(name="film-labelers")
    worker = django_user_model.objects.create_user(username=LABELER, password=LABELER_PASSWORD)
    worker.groups.add(group)
    return worker


@pytest.fixture
def texts_bucket(user) -> str:
    """The owner's bucket with the manifest of film reviews."""
    bucket = owned_bucket(user, "films")
    store = get_store()
    lines = "".join(json.dumps({"source": text}) + "\n" for text in TEXTS)
    store.write_bytes(f"s3://{bucket}/in/films.manifest", lines.encode())
    return bucket


def sign_in(page, url: str, username: str, password: str) -> None:
    page.goto(f"{url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")


def press(page, key: str) -> None:
    """Press ``key`` on the task page and wait for the page its button posts to."""
    with page.expect_navigation():
        page.keyboard.press(key)


@pytest.mark.timeout(120)
def test_label_with_the_keyboard_undo_and_the_owner_sees_the_counters(
    browser, live_server, user, labeler, texts_bucket
):
    url = live_server.url
    owner = browser.new_context().new_page()
    sign_in(owner, url, "ada", "correct horse 9")

    # The owner's work team, from a platform group.
    owner.click("nav >> text=Labeling")
    owner.click("text=Work teams")
    owner.click("text=Create work team")
    owner.fill("#id_name", "film-crew")
    owner.fill("#id_description", "Film reviewers")
    owner.select_option("#id_groups", ["film-labelers"])
    owner.click("#request-form button[type=submit]")
    owner.wait_for_url(f"{url}/workteams/film-crew/")
    assert LABELER in owner.locator("#members").inner_text()

    # The job, with its labels typed in; a bad attribute name is refused next to its field.
    owner.goto(f"{url}/labeling-jobs/")
    owner.click("text=Create labeling job")
    owner.fill("#id_name", "films")
    owner.fill("#id_manifest_uri", f"s3://{texts_bucket}/in/films.manifest")
    owner.fill("#id_categories", "positive\nnegative")
    owner.fill("#id_label_attribute_name", "sentiment-metadata")
    owner.select_option("#id_workteam", label="film-crew")
    owner.fill("#id_output_path", f"s3://{texts_bucket}/out")
    owner.click("#request-form button[type=submit]")
    assert "-metadata" in owner.locator(".errorlist").first.inner_text()
    owner.fill("#id_label_attribute_name", "sentiment")
    owner.click("#request-form button[type=submit]")
    owner.wait_for_url(f"{url}/labeling-jobs/films/")
    assert owner.locator("#status").inner_text() == "Initializing"

    job = LabelingJob.objects.get(name="films")
    labeling_job_start(job_id=job.pk)
    labeling_items_send_to_humans(
        job_id=job.pk, item_ids=list(job.items.values_list("pk", flat=True))
    )
    owner.reload()
    assert owner.locator("#counter-Unlabeled").inner_text() == str(len(TEXTS))
    assert owner.locator("#counter-HumanLabeled").inner_text() == "0"

    # The labeler finds the job waiting for them and labels with the keyboard.
    page = browser.new_context().new_page()
    sign_in(page, url, LABELER, LABELER_PASSWORD)
    page.click("nav >> text=Labeling queue")
    page.click("text=Start labeling")
    page.wait_for_url(f"{url}/labeling-queue/films/")
    assert page.locator("#item-text").inner_text() == TEXTS[0]
    press(page, "1")
    assert page.locator("#item-text").inner_text() == TEXTS[1]
    press(page, "2")
    assert page.locator("#item-text").inner_text() == TEXTS[2]
    press(page, "2")  # a slip: the third review is positive
    assert page.locator("#my-answers").inner_text() == "3"

    press(page, "u")
    assert page.locator("#item-text").inner_text() == TEXTS[2]
    assert page.locator("#my-answers").inner_text() == "2"
    press(page, "1")
    assert page.locator("#item-text").inner_text() == TEXTS[3]
    press(page, "s")  # skipped: nothing left for this labeler
    assert page.locator("#no-task").is_visible()

    answers = HumanAnswer.objects.filter(worker=labeler).order_by("item__index")
    assert [(a.item.index, job.categories[a.label]) for a in answers] == [
        (0, "positive"),
        (1, "negative"),
        (2, "positive"),
    ]

    # The owner's page refreshes itself while the job runs: the counters have moved.
    owner.wait_for_function(
        "document.querySelector('#counter-HumanLabeled').innerText === '3'", timeout=10_000
    )
    assert owner.locator("#counter-Unlabeled").inner_text() == "1"
    assert owner.locator("#counter-TotalLabeled").inner_text() == "3"
