"""The object browser as a user works in it: new folders, upload into the current prefix, find
by prefix, a page at a time, preview a CSV's head, copy an s3:// URI, delete an object and an
empty bucket, each deletion asking first."""

from __future__ import annotations

import re
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from infra.storage import get_store

pytestmark = pytest.mark.django_db


def showing(first: int, last: int, count: int) -> str:
    return f"Showing {first}\N{EN DASH}{last} of {count}"


@pytest.fixture
def bucket(client, user) -> str:
    """A bucket of the signed-in user's own (the store outlives each test's database, so every
    test has a fresh name)."""
    client.force_login(user)
    name = f"data-{uuid.uuid4().hex[:8]}"
    client.post("/objects/new-bucket", {"bucket": name})
    return name


def test_a_new_folder_opens_and_holds_what_is_uploaded_into_it(client, bucket):
    opened = client.get(f"/objects/{bucket}/", {"folder": "raw"})
    assert opened.status_code == 302 and opened["Location"] == f"/objects/{bucket}/raw/"
    empty = client.get(f"/objects/{bucket}/raw/").content.decode()
    assert "An empty folder" in empty and f'action="/objects/upload/{bucket}/raw/"' in empty

    upload = SimpleUploadedFile("train.csv", b"1,2,3\n0,4,5\n", content_type="text/csv")
    client.post(f"/objects/upload/{bucket}/raw/", {"files": [upload]})
    assert get_store().read_bytes(f"s3://{bucket}/raw/train.csv") == b"1,2,3\n0,4,5\n"
    assert f'href="/objects/{bucket}/raw/"' in client.get(f"/objects/{bucket}/").content.decode()

    refused = client.get(f"/objects/{bucket}/", {"folder": "a/b"}, follow=True).content.decode()
    assert "must be 1-255 characters, without &#x27;/&#x27;" in refused


def test_find_by_prefix_and_pages_of_a_long_folder(client, bucket):
    store = get_store()
    for index in range(23):
        store.write_bytes(f"s3://{bucket}/part-{index:02d}.csv", b"1,2\n")
    store.write_bytes(f"s3://{bucket}/other.txt", b"x\n")

    first = client.get(f"/objects/{bucket}/").content.decode()
    assert showing(1, 20, 24) in first and "0 folders · 24 objects (94 B)" in first
    second = client.get(f"/objects/{bucket}/", {"page": 2}).content.decode()
    assert showing(21, 24, 24) in second and "part-22.csv" in second

    found = client.get(f"/objects/{bucket}/", {"search": "part-1"}).content.decode()
    assert re.findall(r">(part-\d\d\.csv)</a>", found) == [f"part-1{i}.csv" for i in range(10)]
    assert "other.txt" not in found


def test_preview_shows_the_head_of_a_csv_and_refuses_binary(client, bucket):
    store = get_store()
    rows = "".join(f"{i},{i * 2},{i * 3}\n" for i in range(1000)).encode()
    store.write_bytes(f"s3://{bucket}/big.csv", rows)
    store.write_bytes(f"s3://{bucket}/blob.txt", b"\x00\x01\x02binary")

    listing = client.get(f"/objects/{bucket}/").content.decode()
    assert f'href="/objects/preview?uri=s3%3A//{bucket}/big.csv"' in listing
    assert f'data-copy="s3://{bucket}/big.csv"' in listing

    html = client.get("/objects/preview", {"uri": f"s3://{bucket}/big.csv"}).content.decode()
    assert "<td>0</td><td>0</td><td>0</td>" in html and "<td>24</td><td>48</td>" in html
    assert "<td>25</td>" not in html and "of a longer object" in html
    blob = client.get("/objects/preview", {"uri": f"s3://{bucket}/blob.txt"}).content.decode()
    assert "This object is not text" in blob
    missing = client.get("/objects/preview", {"uri": f"s3://{bucket}/none.csv"})
    assert missing.status_code == 404


def test_deleting_asks_first_and_a_bucket_goes_only_once_empty(client, bucket):
    uri = f"s3://{bucket}/a.csv"
    get_store().write_bytes(uri, b"1\n")
    listing = client.get(f"/objects/{bucket}/").content.decode()
    assert f'action="/objects/delete" data-confirm="Delete {uri}?' in listing
    buckets = client.get("/objects/").content.decode()
    assert re.search(
        rf'action="/objects/delete-bucket"\s+data-confirm="Delete the bucket {bucket}\?', buckets
    )
    # Deletion is a POST only: a link followed (or prefetched) deletes nothing.
    assert client.get("/objects/delete", {"uri": uri}).status_code == 405
    assert client.get("/objects/delete-bucket", {"bucket": bucket}).status_code == 405

    refused = client.post("/objects/delete-bucket", {"bucket": bucket}, follow=True)
    assert f"Bucket {bucket} is not empty" in refused.content.decode()
    client.post("/objects/delete", {"uri": uri})
    client.post("/objects/delete-bucket", {"bucket": bucket})
    assert bucket not in get_store().list_buckets()
