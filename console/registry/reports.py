"""What a model package version's page shows beyond its Describe response: the numbers in its
metrics reports (read from storage) and its lineage (what produced it, and from what data)."""

from __future__ import annotations

import json
from typing import Any

from console.core.errors import NotFound
from console.registry.models import ModelPackage
from console.registry.selectors import model_package_metric_sources
from console.training.selectors import training_job_get
from infra.storage import StorageError, get_store

# A metrics report is a small JSON document; more than this is not read for the page.
REPORT_MAX_BYTES = 1024 * 1024
# ARN resource types, and the console page (URL name) that shows a resource of that type.
PAGE_OF_ARN_TYPE = {
    "training-job": "training-job",
    "hyper-parameter-tuning-job": "tuning-job",
    "labeling-job": "labeling-job",
    "pipeline": "pipeline",  # the pipeline's page, once the console has one
}


def model_package_metrics(package: ModelPackage) -> list[dict[str, Any]]:
    """Each metrics report with its numbers: ``{"kind", "report", "S3Uri", "numbers":
    [(name, value)], "problem"}``; a report that cannot be read says why in ``problem``."""
    reports = []
    for source in model_package_metric_sources(package):
        numbers, problem = [], ""
        try:
            data = get_store().read_bytes(source["S3Uri"], end=REPORT_MAX_BYTES)
            numbers = metric_numbers(json.loads(data))
        except StorageError as exc:
            problem = f"Could not read the report: {exc}"
        except (ValueError, UnicodeDecodeError):
            problem = "The report is not JSON."
        reports.append({**source, "numbers": numbers, "problem": problem})
    return reports


def metric_numbers(document: Any, path: str = "") -> list[tuple[str, float]]:
    """The numbers of a metrics report, by dotted path. SageMaker's reports hold each metric as
    ``{"value": x, "standard_deviation": s}`` under its name: that reads as the one number x."""
    if isinstance(document, bool):
        return []
    if isinstance(document, int | float):
        return [(path, document)]
    if isinstance(document, dict):
        if isinstance(document.get("value"), int | float) and path:
            return [(path, document["value"])]
        found: list[tuple[str, float]] = []
        for key, value in document.items():
            found += metric_numbers(value, f"{path}.{key}" if path else str(key))
        return found
    return []


def arn_resource(arn: str) -> tuple[str, str]:
    """``(type, name)`` of a SageMaker ARN (``("training-job", "train-1")``); ``("", "")``
    for anything else."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "sagemaker":
        return "", ""
    resource_type, _, rest = parts[5].partition("/")
    return resource_type, rest.split("/", 1)[0]


def model_package_lineage(package: ModelPackage, *, user) -> list[dict[str, str]]:
    """What produced the version, in order: ``{"label", "text", "page", "name"}``, where
    ``page`` is the console URL name showing it (with ``name``), or "" for no page."""
    lineage: list[dict[str, str]] = []
    if package.source:
        resource_type, name = arn_resource(package.source)
        lineage.append(
            {
                "label": _source_label(resource_type),
                "text": package.source,
                "page": PAGE_OF_ARN_TYPE.get(resource_type, ""),
                "name": name,
            }
        )
    if not package.training_job_name:
        return lineage
    try:
        job = training_job_get(user=user, name=package.training_job_name)
    except NotFound:
        return lineage
    if not any(entry["page"] == "training-job" for entry in lineage):
        lineage.append(
            {"label": "Training job", "text": job.name, "page": "training-job", "name": job.name}
        )
    if job.tuning_job_arn:
        _, tuning_name = arn_resource(job.tuning_job_arn)
        lineage.append(
            {
                "label": "Tuning job",
                "text": tuning_name,
                "page": "tuning-job",
                "name": tuning_name,
            }
        )
    for channel in job.spec.get("InputDataConfig", []):
        uri = channel.get("DataSource", {}).get("S3DataSource", {}).get("S3Uri", "")
        if uri:
            lineage.append(
                {
                    "label": f"Training data ({channel.get('ChannelName', '')})",
                    "text": uri,
                    "page": "",
                    "name": "",
                }
            )
    return lineage


def _source_label(resource_type: str) -> str:
    return {
        "pipeline": "Pipeline execution",
        "training-job": "Training job",
        "hyper-parameter-tuning-job": "Tuning job",
        "labeling-job": "Labeling job",
    }.get(resource_type, "Produced by")
