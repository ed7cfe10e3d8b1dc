"""A training job's local disk: the scratch folders a killed run leaves are removed at start-up."""

from __future__ import annotations

import shutil

import pytest

from console.training.models import TrainingJob
from console.training.services import training_job_create
from flows.staging import remove_abandoned_scratch, scratch_root
from tests.flows.test_training import request

pytestmark = pytest.mark.django_db


def test_scratch_of_a_killed_run_is_removed_at_start_up_and_a_running_jobs_kept(user, data_bucket):
    shutil.rmtree(scratch_root(), ignore_errors=True)
    running = training_job_create(user=user, spec=request(data_bucket, "running"))
    killed = training_job_create(user=user, spec=request(data_bucket, "killed"))
    for job in (running, killed):
        (scratch_root() / str(job.pk) / "input").mkdir(parents=True)
    # What the start-up reconcile does first for a job whose flow run is gone.
    TrainingJob.objects.filter(pk=killed.pk).update(status="Failed")

    assert remove_abandoned_scratch() == 1
    assert [folder.name for folder in scratch_root().iterdir()] == [str(running.pk)]
