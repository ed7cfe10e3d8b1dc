"""Reads of hyperparameter tuning jobs."""

from django.db.models import QuerySet

from console.core.selectors import get_visible, visible_to
from console.tuning.models import HyperParameterTuningJob


def tuning_job_list(*, user) -> QuerySet[HyperParameterTuningJob]:
    return visible_to(HyperParameterTuningJob.objects.all(), user)


def tuning_job_get(*, user, name: str) -> HyperParameterTuningJob | None:
    return get_visible(HyperParameterTuningJob.objects.all(), user=user, name=name)
