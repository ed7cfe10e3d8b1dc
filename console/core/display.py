"""How the console writes values in tables: times to the second, durations, and the derived
columns a list may show (a job's algorithm, its duration)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from algorithms.registry import image_name

EMPTY = "—"


def when(value: datetime | None) -> str:
    """``2026-12-07 00:31:05`` in the console's time zone (UTC), or a dash."""
    if value is None:
        return EMPTY
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.strftime("%Y-%m-%d %H:%M:%S")


def span(value: timedelta | None) -> str:
    """``1 h 02 min``, ``4 min 05 s``, ``12 s``, or a dash."""
    if value is None:
        return EMPTY
    seconds = max(int(value.total_seconds()), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {seconds:02d} s"
    return f"{seconds} s"


def cell(value: Any) -> str:
    """A table cell's text for any value a column yields."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, datetime):
        return when(value)
    if isinstance(value, timedelta):
        return span(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def duration(job) -> timedelta | None:
    """How long a job ran, or has been running so far."""
    started = getattr(job, "started_at", None)
    if started is None:
        return None
    return (getattr(job, "ended_at", None) or timezone.now()) - started


def algorithm(job) -> str:
    """The built-in algorithm (or image) a training or tuning job runs."""
    spec = getattr(job, "spec", None)
    if not isinstance(spec, dict):
        return ""
    definition = spec.get("TrainingJobDefinition") or spec
    image = (definition.get("AlgorithmSpecification") or {}).get("TrainingImage", "")
    return image_name(image) if image else ""


def objective(job) -> str:
    """A tuning job's objective, ``Minimize validation:rmse``."""
    spec = getattr(job, "spec", None)
    config = spec.get("HyperParameterTuningJobConfig") or {} if isinstance(spec, dict) else {}
    item = config.get("HyperParameterTuningJobObjective") or {}
    return f"{item.get('Type', '')} {item.get('MetricName', '')}".strip()
