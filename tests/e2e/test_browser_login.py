"""Signing in to the console in a real browser (Debian's Chromium, driven by Playwright)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _playwright_may_run_beside_django(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run
    # under one unless told the calls are made from synchronous test code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def test_sign_in_create_access_key_and_sign_out(browser, live_server, user):
    page = browser.new_page()
    page.goto(f"{live_server.url}/training-jobs/")
    assert "/login/" in page.url

    page.fill("#id_username", "ada")
    page.fill("#id_password", "wrong password")
    page.click("button[type=submit]")
    assert "didn't match" in page.content()

    page.fill("#id_username", "ada")
    page.fill("#id_password", "correct horse 9")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/training-jobs/")
    assert page.locator("h1").inner_text() == "Training jobs"

    page.click("nav >> text=Access keys")
    page.fill("input[name=description]", "laptop")
    page.click("text=Create access key")
    assert page.locator("#new-secret-access-key").inner_text().strip()

    page.click("text=Sign out")
    page.wait_for_url(f"{live_server.url}/login/")
    page.goto(f"{live_server.url}/")
    assert "/login/" in page.url
