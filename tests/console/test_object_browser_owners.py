"""The object browser shows and touches only the buckets a user owns (staff: every bucket), the
same ownership the S3 API keeps."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from console.buckets.services import bucket_create
from infra.storage import get_store

pytestmark = pytest.mark.django_db


@pytest.fixture
def theirs(other_user) -> str:
    name = f"theirs-{uuid.uuid4().hex[:8]}"
    bucket_create(user=other_user, name=name)
    get_store().write_bytes(f"s3://{name}/secret.csv", b"private")
    return name


def test_someone_elses_bucket_is_not_shown_nor_reachable(client, user, theirs):
    client.force_login(user)
    assert theirs not in client.get("/objects/").content.decode()
    assert b"private" not in client.get(f"/objects/{theirs}/", follow=True).content
    assert "secret.csv" not in client.get(f"/objects/{theirs}/", follow=True).content.decode()
    uri = f"s3://{theirs}/secret.csv"
    assert client.get("/objects/download", {"uri": uri}).status_code == 404
    client.post("/objects/delete", {"uri": uri})
    upload = SimpleUploadedFile("x.csv", b"planted")
    assert client.post(f"/objects/upload/{theirs}/", {"files": [upload]}).status_code == 404
    assert get_store().read_bytes(uri) == b"private"
    assert not get_store().exists(f"s3://{theirs}/x.csv")


def test_a_taken_bucket_name_is_refused(client, user, theirs):
    client.force_login(user)
    page = client.post("/objects/new-bucket", {"bucket": theirs}, follow=True).content.decode()
    assert "another account owns it" in page


def every_page(client, path: str) -> str:
    """A paginated list's pages, one after the other, as one text."""
    pages, number = [], 1
    while True:
        page = client.get(path, {"page": number, "per_page": 100}).content.decode()
        pages.append(page)
        if 'rel="next"' not in page:
            return "".join(pages)
        number += 1


def test_staff_see_every_bucket_including_unowned_ones(client, admin_user, theirs):
    unowned = f"unowned-{uuid.uuid4().hex[:8]}"
    get_store().create_bucket(unowned)  # as `manage.py objects mb` makes one
    client.force_login(admin_user)
    page = every_page(client, "/objects/")  # the suite's other tests have made buckets too
    assert theirs in page and unowned in page
    download = client.get("/objects/download", {"uri": f"s3://{theirs}/secret.csv"})
    assert b"".join(download.streaming_content) == b"private"
