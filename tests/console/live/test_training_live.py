"""A training job's page refreshes its parts in place: the status and the log answer as
fragments, the page never reloads itself, and the whole log downloads as a text file."""

from __future__ import annotations

import pytest

from console.core.live import LOG_TAIL_LINES
from console.training.models import TrainingJob, TrainingLog
from tests.console.live.conftest import job_row

pytestmark = pytest.mark.django_db

SPEC = {
    "AlgorithmSpecification": {"TrainingImage": "lightgbm", "TrainingInputMode": "File"},
    "ResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1},
    "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    "OutputDataConfig": {"S3OutputPath": "s3://out/"},
}


@pytest.fixture
def job(user):
    row = job_row(TrainingJob, user, "churn", "training-job", spec=SPEC)
    row.secondary_status = "Training"
    row.save()
    lines = [f"[{i}] train-auc: 0.{i:04d}\n" for i in range(LOG_TAIL_LINES + 50)]
    for start in range(0, len(lines), 100):
        TrainingLog.objects.create(job=row, text="".join(lines[start : start + 100]))
    return row


def test_the_page_polls_fragments_instead_of_reloading(console, job):
    html = console.get("/training-jobs/churn/").content.decode()
    assert 'http-equiv="refresh"' not in html and "location.reload" not in html
    assert 'data-live-url="/training-jobs/churn/?fragment=status"' in html
    assert 'data-live-url="/training-jobs/churn/?fragment=log"' in html
    assert "console/live.js" in html
    assert "<h2>Hyperparameters</h2>" in html

    status = console.get("/training-jobs/churn/?fragment=status").content.decode()
    assert status.lstrip().startswith('<div id="training-live"')
    assert 'id="training-live"' in status and "data-live-done" not in status
    assert "<h2>Hyperparameters</h2>" not in status and "<html" not in status
    assert 'data-since="' in status  # the elapsed counter ticks in the browser
    assert " UTC</time>" in status  # times to the second, in UTC

    log = console.get("/training-jobs/churn/?fragment=log").content.decode()
    assert log.lstrip().startswith('<section id="log-live"')
    assert "Download full log" in log and "[1049] train-auc" in log  # the tail, newest last
    assert "[0] train-auc" not in log and "50 earlier lines" in log


def test_an_ended_job_says_so_and_stops_the_polling(console, job):
    TrainingJob.objects.filter(pk=job.pk).update(status="Completed", ended_at=job.started_at)
    status = console.get("/training-jobs/churn/?fragment=status").content.decode()
    assert "data-live-done" in status and "data-since" not in status
    assert "0 s" in status  # the elapsed time, fixed


def test_an_unknown_fragment_is_refused_naming_the_parameter(console, job):
    response = console.get("/training-jobs/churn/?fragment=everything")
    assert response.status_code == 400
    assert response.json()["field"] == "fragment" and "log, status" in response.json()["detail"]


def test_the_full_log_downloads_as_text(console, job):
    response = console.get("/training-jobs/churn/log")
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="churn.log"'
    lines = response.content.decode().splitlines()
    assert len(lines) == LOG_TAIL_LINES + 50 and lines[0] == "[0] train-auc: 0.0000"
    assert console.get("/training-jobs/nothing/log").status_code == 404
