"""Reads of training jobs."""

from django.db.models import QuerySet

from console.core.selectors import visible_to
from console.training.models import TrainingJob


def training_job_list(*, user) -> QuerySet[TrainingJob]:
    return visible_to(TrainingJob.objects.all(), user)
