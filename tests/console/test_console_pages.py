"""The console shell: sign-in, navigation to every resource, access keys, objects, status."""

from __future__ import annotations

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

PAGES = [
    "/",
    "/training-jobs/",
    "/tuning-jobs/",
    "/models/",
    "/endpoints/",
    "/transform-jobs/",
    "/labeling-jobs/",
    "/pipelines/",
    "/objects/",
    "/access-keys/",
]


@pytest.mark.parametrize("page", PAGES)
def test_pages_need_sign_in(client, page):
    response = client.get(page)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize("page", PAGES)
def test_pages_render_with_navigation_to_every_resource(client, user, page):
    client.force_login(user)
    response = client.get(page)
    assert response.status_code == 200
    html = response.content.decode()
    for link in PAGES[1:]:
        assert f'href="{link}"' in html


def test_posts_need_a_csrf_token(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post("/access-keys/new", {"description": "x"}).status_code == 403


def test_access_key_secret_is_shown_once(client, user):
    client.force_login(user)
    created = client.post("/access-keys/new", {"description": "laptop"}).content.decode()
    secret = re.search(r'id="new-secret-access-key">([^<]+)<', created).group(1)
    again = client.get("/access-keys/").content.decode()
    assert "laptop" in again and secret not in again


def test_object_browser_upload_browse_download_delete(client, user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(user)
    assert client.post("/objects/new-bucket", {"bucket": "Bad_Name"}).status_code == 302
    assert b"Bad_Name" in client.get("/objects/").content  # the error names the value
    client.post("/objects/new-bucket", {"bucket": "data"})
    upload = SimpleUploadedFile("train.csv", b"1,2,3\n0,4,5\n", content_type="text/csv")
    client.post("/objects/upload/data/raw/", {"files": [upload]})

    top = client.get("/objects/data/").content.decode()
    assert "raw/" in top
    listing = client.get("/objects/data/raw/").content.decode()
    assert "raw/train.csv" in listing

    download = client.get("/objects/download", {"uri": "s3://data/raw/train.csv"})
    assert b"".join(download.streaming_content) == b"1,2,3\n0,4,5\n"

    client.post("/objects/delete", {"uri": "s3://data/raw/train.csv"})
    assert client.get("/objects/download", {"uri": "s3://data/raw/train.csv"}).status_code == 404


def test_status_page_shows_each_process(client, user):
    client.force_login(user)
    html = client.get("/status/").content.decode()
    for name in (
        "Web",
        "Database",
        "Redis",
        "Prefect server",
        "Flow runner (serve)",
        "Celery workers",
        "Object storage",
        "Dask",
    ):
        assert name in html
    # The database answers in tests; the web row is this very page.
    assert re.search(r"Database</td>\s*<td class=\"up\">", html)


def test_no_debug_pages_when_debug_is_off(client, settings):
    settings.DEBUG = False
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"Traceback" not in response.content and b"URLconf" not in response.content


def test_every_page_loads_the_shared_script_and_fits_a_phone(client, user):
    client.force_login(user)
    html = client.get("/").content.decode()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert 'src="/static/console/console.js"' in html
    assert '<main id="main">' in html and '<nav aria-label="Resources">' in html


def test_revoking_an_access_key_asks_first_and_only_by_post(client, user):
    client.force_login(user)
    client.post("/access-keys/new", {"description": "laptop"})
    html = client.get("/access-keys/").content.decode()
    key_id = re.search(r"<code>(SBAK\w+)</code>", html).group(1)
    assert re.search(
        rf'action="/access-keys/{key_id}/revoke"\s+data-confirm="Revoke access key {key_id}\?', html
    )
    assert client.get(f"/access-keys/{key_id}/revoke").status_code == 405


def test_a_refused_form_sums_up_its_errors_at_the_top_linking_each_field(client, user):
    client.force_login(user)
    html = client.post("/models/new", {"name": "m"}).content.decode()
    summary = re.search(
        r'<div class="error-summary" role="alert" tabindex="-1" data-focus>(.*?)</div>', html, re.S
    )
    assert summary and re.search(
        r'<a href="#id_\w+">[^<]+</a>: This field is required', summary.group(1)
    )
