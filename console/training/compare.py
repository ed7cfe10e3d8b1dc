"""What the console shows when it puts training jobs side by side: one job's train and
validation curves of a metric overlaid, and a comparison of 2 to N jobs (hyperparameters that
differ, every metric's curves overlaid, final metrics)."""

from __future__ import annotations

from typing import Any

from django.utils.safestring import SafeString

from algorithms.hyperparameters import TUNING_OBJECTIVE_METRIC
from console.core.charts import COLOURS, line_chart
from console.core.errors import ValidationError
from console.training.hyperparameter_fields import algorithm_or_none, schema_rows
from console.training.models import TrainingJob
from console.training.selectors import training_job_get, training_job_metric_series

MIN_COMPARED, MAX_COMPARED = 2, len(COLOURS)
# The channel part of a metric's name ("validation:auc"); train's line is solid, others dashed.
SOLID_CHANNEL = "train"


def metric_points(values: list[dict]) -> list[tuple[float, float]]:
    """Per-step values by step; values without a step (from log regexes) in arrival order."""
    return [
        (value["step"] if value["step"] is not None else index, value["value"])
        for index, value in enumerate(values, start=1)
    ]


def split_metric(name: str) -> tuple[str, str]:
    """``validation:auc`` → ``("validation", "auc")``; a name without a channel is its own."""
    channel, sep, metric = name.partition(":")
    return (channel, metric) if sep else ("", name)


def metric_groups(series: dict[str, list[dict]]) -> dict[str, dict[str, list]]:
    """The recorded series grouped by metric, each channel's curve of it side by side:
    ``{"auc": {"train:auc": points, "validation:auc": points}}``, sorted by metric."""
    groups: dict[str, dict[str, list]] = {}
    for name in sorted(series, key=lambda n: (split_metric(n)[1], split_metric(n)[0])):
        groups.setdefault(split_metric(name)[1], {})[name] = metric_points(series[name])
    return dict(sorted(groups.items()))


def training_job_charts(job: TrainingJob) -> list[tuple[str, SafeString]]:
    """One chart per metric with its train and validation (and test) curves overlaid."""
    return [
        (
            metric,
            line_chart(
                curves,
                x_label="iteration",
                title=metric,
                dashed=[n for n in curves if split_metric(n)[0] not in ("", SOLID_CHANNEL)],
            ),
        )
        for metric, curves in metric_groups(training_job_metric_series(job)).items()
    ]


def compared_names(names: list[str]) -> list[str]:
    """The jobs to compare, each once, in the order given; 2 to ``MAX_COMPARED`` of them."""
    unique = list(dict.fromkeys(n.strip() for n in names if n.strip()))
    if not MIN_COMPARED <= len(unique) <= MAX_COMPARED:
        raise ValidationError(
            "name",
            f"Choose {MIN_COMPARED} to {MAX_COMPARED} training jobs to compare "
            f"({len(unique)} chosen)",
        )
    return unique


def training_job_comparison(*, user, names: list[str]) -> dict[str, Any]:
    """The compare page of the user's jobs ``names`` (NotFound for one that is not theirs)."""
    jobs = [training_job_get(user=user, name=name) for name in compared_names(names)]
    colours = {job.name: COLOURS[index] for index, job in enumerate(jobs)}
    series = {job.name: training_job_metric_series(job) for job in jobs}
    return {
        "jobs": [_summary(job, colours[job.name]) for job in jobs],
        "hyperparameters": hyperparameter_diff(jobs),
        "final_metrics": final_metric_rows(jobs),
        "charts": _overlaid_charts(series, colours),
    }


def _summary(job: TrainingJob, colour: str) -> dict[str, Any]:
    specification = job.spec.get("AlgorithmSpecification", {})
    seconds = None
    if job.ended_at:
        seconds = int((job.ended_at - (job.started_at or job.created_at)).total_seconds())
    return {
        "name": job.name,
        "status": job.status,
        "algorithm": specification.get("TrainingImage") or specification.get("AlgorithmName"),
        "seconds": seconds,
        "colour": colour,
        "tuning_job_arn": job.tuning_job_arn,
    }


def hyperparameter_diff(jobs: list[TrainingJob]) -> list[dict[str, Any]]:
    """One row per hyperparameter any job set: each job's value (its algorithm's default when it
    set none, flagged), and whether they differ. Differing rows first, then by name."""
    given = [
        {
            k: str(v)
            for k, v in job.spec.get("HyperParameters", {}).items()
            if k != TUNING_OBJECTIVE_METRIC
        }
        for job in jobs
    ]
    defaults = [_defaults(job) for job in jobs]
    rows = []
    for name in sorted({name for values in given for name in values}):
        cells = [
            {"value": values[name], "default": False}
            if name in values
            else {"value": job_defaults.get(name, ""), "default": True}
            for values, job_defaults in zip(given, defaults, strict=True)
        ]
        differs = len({cell["value"] for cell in cells}) > 1
        rows.append({"name": name, "cells": cells, "differs": differs})
    return sorted(rows, key=lambda row: (not row["differs"], row["name"]))


def _defaults(job: TrainingJob) -> dict[str, str]:
    specification = job.spec.get("AlgorithmSpecification", {})
    image = specification.get("TrainingImage") or specification.get("AlgorithmName")
    return {row.name: row.default for row in schema_rows(algorithm_or_none(image))}


def final_metric_rows(jobs: list[TrainingJob]) -> list[dict[str, Any]]:
    """Each final metric any job reported, with every job's value (None where it has none)."""
    names = sorted({name for job in jobs for name in job.final_metrics})
    return [
        {"name": name, "values": [job.final_metrics.get(name) for job in jobs]} for name in names
    ]


def _overlaid_charts(
    series: dict[str, dict[str, list[dict]]], colours: dict[str, str]
) -> list[tuple[str, SafeString]]:
    """One chart per metric: each job's curves in the job's colour, train solid, others dashed."""
    by_metric: dict[str, dict[str, list]] = {}
    line_colours: dict[str, str] = {}
    dashed: list[str] = []
    for job_name, job_series in series.items():
        for metric, curves in metric_groups(job_series).items():
            for curve, points in curves.items():
                label = f"{job_name} · {curve}"
                by_metric.setdefault(metric, {})[label] = points
                line_colours[label] = colours[job_name]
                if split_metric(curve)[0] not in ("", SOLID_CHANNEL):
                    dashed.append(label)
    return [
        (
            metric,
            line_chart(
                curves,
                x_label="iteration",
                title=metric,
                colours=line_colours,
                dashed=dashed,
                legend=False,
            ),
        )
        for metric, curves in sorted(by_metric.items())
    ]
