"""The console's lists: a page at a time with "showing x to y of N", sorted by a column, with the
columns a user asks for (algorithm, duration); and the access keys page, a page at a time."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from console.accounts.services import access_key_create
from console.core.names import account_id_for, arn
from console.training.models import TrainingJob

pytestmark = pytest.mark.django_db


def showing(first: int, last: int, count: int) -> str:
    return f"Showing {first}\N{EN DASH}{last} of {count}"


def _jobs(owner, count: int) -> None:
    started = timezone.now() - timedelta(minutes=10)
    TrainingJob.objects.bulk_create(
        TrainingJob(
            owner=owner,
            name=f"job-{index:03d}",
            arn=arn("training-job", f"job-{index:03d}", account_id=account_id_for(owner.pk)),
            status="Failed" if index % 3 == 0 else "Completed",
            spec={"AlgorithmSpecification": {"TrainingImage": "xgboost:1"}},
            started_at=started,
            ended_at=started + timedelta(minutes=2, seconds=5),
        )
        for index in range(count)
    )


def _names(html: str) -> list[str]:
    return re.findall(r'<a href="/training-jobs/(job-\d+)/">', html)


def linked_names(html: str, path: str) -> list[str]:
    """The rows' names, in the order a list shows them (each links to its page under ``path``)."""
    return re.findall(rf'<a href="{path}([\w-]+)/">', html)


def assert_pages_and_sorts(client, path: str, count: int) -> None:
    """The list at ``path``, of ``count`` rows named ``row-000``, ``row-001``…, shows them 20 at
    a time, says how many there are, and keeps to the order asked for, both ways."""
    names = [f"row-{index:03d}" for index in range(count)]
    first = client.get(path, {"sort": "name"}).content.decode()
    assert showing(1, 20, count) in first and linked_names(first, path) == names[:20]
    assert 'rel="next"' in first
    pages = (count + 19) // 20
    last = client.get(path, {"sort": "name", "page": pages}).content.decode()
    assert showing(20 * (pages - 1) + 1, count, count) in last
    assert linked_names(last, path) == names[20 * (pages - 1) :]
    descending = client.get(path, {"sort": "-name"}).content.decode()
    assert linked_names(descending, path) == names[::-1][:20]
    assert 'aria-sort="descending"' in descending


def test_a_list_shows_one_page_at_a_time_and_says_how_many_there_are(client, user):
    _jobs(user, 45)
    client.force_login(user)

    first = client.get("/training-jobs/", {"sort": "name"}).content.decode()
    assert showing(1, 20, 45) in first
    assert _names(first) == [f"job-{index:03d}" for index in range(20)]
    next_url = re.search(r'<a rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")

    second = client.get("/training-jobs/" + next_url).content.decode()
    assert showing(21, 40, 45) in second and 'rel="prev"' in second
    last = client.get("/training-jobs/", {"sort": "name", "page": 99}).content.decode()
    assert showing(41, 45, 45) in last and 'rel="next"' not in last
    assert _names(last) == [f"job-{index:03d}" for index in range(40, 45)]


def test_a_list_sorts_by_a_column_both_ways_and_filters_within_the_sort(client, user):
    _jobs(user, 6)
    client.force_login(user)

    descending = _names(client.get("/training-jobs/", {"sort": "-name"}).content.decode())
    assert descending == [f"job-{index:03d}" for index in reversed(range(6))]
    by_status = client.get("/training-jobs/", {"sort": "status"}).content.decode()
    assert _names(by_status)[:4] == ["job-001", "job-002", "job-004", "job-005"]  # Completed
    assert 'aria-sort="ascending"' in by_status

    failed = client.get("/training-jobs/", {"sort": "name", "status": "Failed"}).content.decode()
    assert _names(failed) == ["job-000", "job-003"] and showing(1, 2, 2) in failed
    # Not a column: the default order (newest first), not an error.
    assert client.get("/training-jobs/", {"sort": "owner__password"}).status_code == 200


def test_a_list_shows_the_algorithm_and_the_duration_of_jobs(client, user):
    _jobs(user, 1)
    client.force_login(user)
    html = client.get("/training-jobs/").content.decode()
    assert ">Algorithm</th>" in html and ">Duration</th>" in html
    assert "<td>xgboost</td>" in html and "<td>2 min 05 s</td>" in html
    # Times to the second.
    assert re.search(r"<td>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d</td>", html)


def test_the_access_keys_page_shows_keys_a_page_at_a_time(client, user):
    for index in range(23):
        access_key_create(user=user, description=f"key number {index}")
    client.force_login(user)

    first = client.get("/access-keys/").content.decode()
    assert showing(1, 20, 23) in first and first.count('action="/access-keys/') == 21
    second = client.get("/access-keys/", {"page": 2}).content.decode()
    assert showing(21, 23, 23) in second and second.count("key number") == 3
