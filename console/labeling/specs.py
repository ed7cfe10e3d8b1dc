"""What CreateLabelingJob's request must satisfy beyond its botocore shape: the attribute name,
the task type, the label categories and every line of the input manifest, read from storage."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from algorithms.active_learning import DEFAULT_QUERY_STRATEGY
from console.core.errors import ValidationError
from infra.storage import InvalidURI, ObjectStore, StorageError, get_store, parse_uri
from infra.storage.confined import BucketOutOfReach

MANIFEST = "InputConfig.DataSource.S3DataSource.ManifestS3Uri"
CATEGORIES = "LabelCategoryConfigS3Uri"
ALGORITHM = "LabelingJobAlgorithmsConfig.LabelingJobAlgorithmSpecificationArn"
PRE_LAMBDA = "HumanTaskConfig.PreHumanTaskLambdaArn"
MAX_LINE_CHARS = 100_000
MAX_ATTRIBUTE_CHARS = 20_000
MAX_CATEGORIES = 256  # Ground Truth's limit for single-label classification
MAX_ITEMS = 500_000

# Ground Truth's four built-in active-learning algorithms, by the last part of their ARN
# (``arn:aws:sagemaker:<region>:<account>:labeling-job-algorithm-specification/<name>``).
ALGORITHM_ARN = re.compile(
    r"^arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]+:\d{12}:labeling-job-algorithm-specification/"
    r"(?P<name>[a-z\-]+)$"
)
BUILT_IN_ALGORITHMS = (
    "image-classification",
    "text-classification",
    "object-detection",
    "semantic-segmentation",
)
# The task types this platform runs, and the pre-annotation Lambda each has in Ground Truth
# (``PRE-TabularMultiClass`` is the platform's own name: Ground Truth has no tabular task).
TASK_TYPES = {
    "PRE-TextMultiClass": "text-classification",
    "PRE-ImageMultiClass": "image-classification",
    "PRE-TabularMultiClass": "tabular-classification",
}
SUPPORTED_TASK_TYPES = tuple(TASK_TYPES.values())


@dataclass(frozen=True)
class ManifestLine:
    index: int  # from 0; errors name it from 1, as editors number lines
    line: dict[str, Any]
    source: str
    source_ref: str


# The job tag that picks automated labeling's query strategy.
QUERY_STRATEGY_TAG = "sagebrush:labeling:query-strategy"
QUERY_STRATEGIES = ("least-confidence", "margin", "entropy")


def query_strategy_of(spec: dict[str, Any]) -> str:
    """The query strategy a request's ``QUERY_STRATEGY_TAG`` tag names (least-confidence when it
    has none), refused at create for any other value."""
    tags = {tag["Key"]: tag.get("Value", "") for tag in spec.get("Tags", [])}
    strategy = tags.get(QUERY_STRATEGY_TAG, DEFAULT_QUERY_STRATEGY)
    if strategy not in QUERY_STRATEGIES:
        rule = f"The tag {QUERY_STRATEGY_TAG}'s value must be least-confidence, margin or entropy"
        raise ValidationError("Tags", rule, value=strategy)
    return strategy


def check_attribute_name(name: str) -> None:
    field = "LabelAttributeName"
    if name.endswith("-metadata"):
        raise ValidationError(field, "Member must not end with '-metadata'", value=name)
    if name.endswith("-ref"):
        rule = "Member must not end with '-ref' for classification jobs"
        raise ValidationError(field, rule, value=name)


def task_type_of(spec: dict[str, Any]) -> str:
    """The task type the request names: by its active-learning algorithm, else its
    pre-annotation Lambda, else ``""`` (read from the manifest's lines)."""
    algorithm = spec.get("LabelingJobAlgorithmsConfig", {}).get(
        "LabelingJobAlgorithmSpecificationArn"
    )
    if algorithm is not None:
        match = ALGORITHM_ARN.match(algorithm)
        if match is None or match["name"] not in BUILT_IN_ALGORITHMS:
            rule = "Member must be the ARN of a built-in labeling algorithm: " + ", ".join(
                BUILT_IN_ALGORITHMS
            )
            raise ValidationError(ALGORITHM, rule, value=algorithm)
        if match["name"] not in SUPPORTED_TASK_TYPES:
            rule = f"Automated labeling for {match['name']} is not supported yet"
            raise ValidationError(ALGORITHM, rule, value=algorithm)
        return match["name"]
    pre_lambda = spec["HumanTaskConfig"].get("PreHumanTaskLambdaArn")
    if pre_lambda is not None:
        function = pre_lambda.rsplit(":", 1)[-1]
        if function not in TASK_TYPES:
            rule = "Member must name a supported task's function: " + ", ".join(TASK_TYPES)
            raise ValidationError(PRE_LAMBDA, rule, value=pre_lambda)
        return TASK_TYPES[function]
    return ""


def read_categories(uri: str | None) -> list[str]:
    """The label names of a Ground Truth label category file."""
    if uri is None:
        raise ValidationError(CATEGORIES, "Member is required for classification jobs")
    data = _read_json(CATEGORIES, uri)
    labels = data.get("labels") if isinstance(data, dict) else None
    if not isinstance(labels, list):
        rule = 'Member must name a JSON object {"document-version": ..., "labels": [...]}'
        raise ValidationError(CATEGORIES, rule, value=uri)
    names = []
    for number, entry in enumerate(labels, start=1):
        label = entry.get("label") if isinstance(entry, dict) else None
        if not isinstance(label, str) or not label.strip():
            rule = f'labels[{number}] must be an object with a non-empty "label"'
            raise ValidationError(CATEGORIES, rule, value=uri)
        names.append(label)
    if not 2 <= len(names) <= MAX_CATEGORIES:
        rule = f"The file must list between 2 and {MAX_CATEGORIES} labels (it lists {len(names)})"
        raise ValidationError(CATEGORIES, rule, value=uri)
    if len(set(names)) != len(names):
        duplicate = next(name for name in names if names.count(name) > 1)
        rule = f"Labels must be unique ({duplicate!r} is listed twice)"
        raise ValidationError(CATEGORIES, rule, value=uri)
    return names


def read_manifest(
    uri: str, *, task_type: str, store: ObjectStore
) -> tuple[list[ManifestLine], str]:
    """Every line of the input manifest, checked, and the task type (``task_type`` if the request
    named one, else ``source-ref`` lines mean images and ``source`` lines text). A bad line is
    refused naming its number; a ``source-ref`` naming no object, or one outside ``store`` (the
    job owner's view of it), is refused naming the URI."""
    try:
        body = store.read_bytes(uri)
    except StorageError as exc:
        raise ValidationError(
            MANIFEST, f"Member must name a readable object: {exc}", value=uri
        ) from None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError(MANIFEST, f"The manifest must be UTF-8 ({exc})", value=uri) from None
    lines: list[ManifestLine] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        parsed = _manifest_line(raw, number, uri)
        task_type = task_type or (
            "image-classification" if parsed.source_ref else "text-classification"
        )
        _check_task_fits(parsed, number, task_type, uri)
        lines.append(ManifestLine(len(lines), parsed.line, parsed.source, parsed.source_ref))
        if len(lines) > MAX_ITEMS:
            raise ValidationError(MANIFEST, f"The manifest must hold at most {MAX_ITEMS} lines")
    if not lines:
        raise ValidationError(MANIFEST, "The manifest must hold at least one line", value=uri)
    _check_sources_exist(store, lines)
    return lines, task_type


def _manifest_line(raw: str, number: int, uri: str) -> ManifestLine:
    def refuse(rule: str) -> ValidationError:
        return ValidationError(MANIFEST, f"Line {number} of the manifest {rule}", value=uri)

    if len(raw) > MAX_LINE_CHARS:
        raise refuse(f"is longer than {MAX_LINE_CHARS} characters")
    try:
        line = json.loads(raw)
    except ValueError as exc:
        raise refuse(f"is not JSON ({exc})") from None
    if not isinstance(line, dict):
        raise refuse("is not a JSON object")
    for key, value in line.items():
        if key.startswith("$"):
            raise refuse(f"has an attribute name starting with '$' ({key!r})")
        if isinstance(value, str) and len(value) > MAX_ATTRIBUTE_CHARS:
            raise refuse(f"has an attribute longer than {MAX_ATTRIBUTE_CHARS} characters ({key!r})")
    source, source_ref = line.get("source"), line.get("source-ref")
    if (source is None) == (source_ref is None):
        raise refuse('must have exactly one of "source" (text) or "source-ref" (an S3 URI)')
    if source is not None and not isinstance(source, str):
        raise refuse('has a "source" that is not a string')
    if source_ref is not None:
        if not isinstance(source_ref, str):
            raise refuse('has a "source-ref" that is not a string')
        try:
            parse_uri(source_ref)
        except InvalidURI as exc:
            raise refuse(f'has a "source-ref" that is not an s3:// URI ({exc})') from None
    return ManifestLine(number - 1, line, source or "", source_ref or "")


def _check_task_fits(line: ManifestLine, number: int, task_type: str, uri: str) -> None:
    wants_ref = task_type == "image-classification"
    if wants_ref != bool(line.source_ref):
        key = "source-ref" if wants_ref else "source"
        rule = f'Line {number} of the manifest must have "{key}" for a {task_type} job'
        raise ValidationError(MANIFEST, rule, value=uri)


def _check_sources_exist(store, lines: list[ManifestLine]) -> None:
    for item in lines:
        if not item.source_ref:
            continue
        where = f'Line {item.index + 1} of the manifest has a "source-ref"'
        try:
            found = _exists(store, item.source_ref)
        except BucketOutOfReach:
            rule = f"{where} in a bucket that is not one of yours: {item.source_ref}"
            raise ValidationError(MANIFEST, rule, value=item.source_ref) from None
        if not found:
            rule = f"{where} that names no object: {item.source_ref}"
            raise ValidationError(MANIFEST, rule, value=item.source_ref)


def _exists(store, uri: str) -> bool:
    try:
        return store.exists(uri)
    except BucketOutOfReach:
        raise
    except StorageError:
        return False


def _read_json(field: str, uri: str) -> Any:
    try:
        return json.loads(get_store().read_bytes(uri))
    except StorageError as exc:
        raise ValidationError(
            field, f"Member must name a readable object: {exc}", value=uri
        ) from None
    except ValueError as exc:
        raise ValidationError(field, f"The object is not JSON ({exc})", value=uri) from None
