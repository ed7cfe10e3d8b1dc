"""In a real browser (Debian's Chromium, Playwright) against the test server: an endpoint's page
swaps in its new state while the user types a test request, and nothing typed is lost."""

from __future__ import annotations

import pytest
from django.test import Client

from console.endpoints.models import Endpoint

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _playwright_may_run_beside_django(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run
    # under one unless told the calls are made from synchronous test code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def test_the_status_changes_in_place_and_the_typed_request_stays(browser, live_server, user):
    Endpoint.objects.create(owner=user, name="churn", arn="arn:aws:sagemaker:::endpoint/churn")
    signed_in = Client()
    signed_in.force_login(user)
    context = browser.new_context()
    context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": signed_in.cookies["sessionid"].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/endpoints/churn/")
    assert page.locator("#status").inner_text() == "Creating"
    page.evaluate("window.sameDocument = true")
    page.fill("#id_body", "5.1,3.5,1.4")  # half-typed: the user is still at it

    Endpoint.objects.filter(name="churn").update(status="InService")
    page.wait_for_function(
        "document.querySelector('#status').innerText === 'InService'", timeout=10_000
    )
    assert page.input_value("#id_body") == "5.1,3.5,1.4"
    assert page.evaluate("window.sameDocument") is True  # swapped in place, never reloaded
    context.close()
