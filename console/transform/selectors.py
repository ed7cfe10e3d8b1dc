"""Reads of batch transform jobs."""

from django.db.models import QuerySet

from console.core.selectors import visible_to
from console.transform.models import TransformJob


def transform_job_list(*, user) -> QuerySet[TransformJob]:
    return visible_to(TransformJob.objects.all(), user)
