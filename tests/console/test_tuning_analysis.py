"""What a tuning job's trials tell: which running trials early stopping chooses, from the
per-epoch metrics they recorded."""

from __future__ import annotations

import pytest
from django.utils import timezone

from console.core.names import account_id_for, arn
from console.training.models import TrainingJob, TrainingMetric
from console.tuning.analysis import tuning_job_trials_to_stop_early
from console.tuning.services import tuning_job_create
from tests.console.test_tuning import request

pytestmark = pytest.mark.django_db

# -- early stopping: the median rule over recorded per-epoch metrics -----------------------------


def trial_with_curve(
    job, index: int, values: list[float], status: str, *, steps: list[int | None] | None = None
) -> TrainingJob:
    """A trial that recorded ``values`` of the objective, at ``steps`` (1, 2, ... by default;
    ``None`` is a value parsed from the log, which has no step)."""
    trial = TrainingJob.objects.create(
        owner=job.owner,
        name=f"{job.name}-{index:03d}-abcdef{index:02d}",
        arn=arn("training-job", f"{job.name}-{index:03d}", account_id=account_id_for(job.owner.pk)),
        status=status,
        tuning_job_arn=job.arn,
        spec={"HyperParameters": {"learning_rate": "0.1", "num_leaves": "4"}},
    )
    TrainingMetric.objects.bulk_create(
        TrainingMetric(
            job=trial,
            name="validation:binary_logloss",
            step=step,
            value=value,
            timestamp=timezone.now(),
        )
        for step, value in zip(steps or range(1, len(values) + 1), values, strict=True)
    )
    return trial


def test_a_trial_worse_than_the_median_at_its_epoch_is_chosen_for_stopping(user, data_bucket):
    job = tuning_job_create(
        user=user, spec=request(data_bucket, TrainingJobEarlyStoppingType="Auto")
    )
    for index in range(1, 4):
        trial_with_curve(job, index, [0.6, 0.4, 0.3, 0.25], "Completed")
    slow = trial_with_curve(job, 4, [0.69, 0.68], "InProgress")
    good = trial_with_curve(job, 5, [0.5, 0.3], "InProgress")

    assert tuning_job_trials_to_stop_early(job) == [slow]
    assert good not in tuning_job_trials_to_stop_early(job)


def test_early_stopping_compares_trials_at_their_steps_or_else_in_the_log_order(user, data_bucket):
    job = tuning_job_create(
        user=user, spec=request(data_bucket, TrainingJobEarlyStoppingType="Auto")
    )
    # Earlier trials measured at iterations 1, 2, 30 and 60 only: up to step 4 they average 0.5,
    # over their first four values 0.375.
    for index in range(1, 4):
        trial_with_curve(job, index, [0.6, 0.4, 0.3, 0.2], "Completed", steps=[1, 2, 30, 60])
    on_course = trial_with_curve(job, 4, [0.6, 0.5, 0.45, 0.42], "InProgress")
    # Values from the log have no step: the third one is epoch 3, wherever it sits in the table.
    from_log = trial_with_curve(job, 5, [0.7, 0.65, 0.6], "InProgress", steps=[None] * 3)
    assert tuning_job_trials_to_stop_early(job) == [from_log]
    assert on_course not in tuning_job_trials_to_stop_early(job)
