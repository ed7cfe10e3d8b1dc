"""Reads of labeling jobs."""

from django.db.models import QuerySet

from console.core.selectors import visible_to
from console.labeling.models import LabelingJob


def labeling_job_list(*, user) -> QuerySet[LabelingJob]:
    return visible_to(LabelingJob.objects.all(), user)
