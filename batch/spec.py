"""A transform job's spec, parsed and validated from SageMaker's CreateTransformJob request shape.

The console calls :meth:`TransformSpec.from_request` at create time, so this module stays cheap to
import (no Dask, no storage). Every refusal is a :class:`ValidationError` naming the field path
(``TransformInput.SplitType``) and the rule it breaks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from batch.jsonpath import InvalidPath, compile_path

S3_DATA_TYPES = ("S3Prefix", "ManifestFile")
COMPRESSION_TYPES = ("None", "Gzip")
SPLIT_TYPES = ("None", "Line", "RecordIO")
UNSUPPORTED_SPLIT_TYPES = ("TFRecord",)
ASSEMBLE_WITH = ("None", "Line")
BATCH_STRATEGIES = ("SingleRecord", "MultiRecord")
JOIN_SOURCES = ("None", "Input")
# Content types DataProcessing understands, and those it can join (CSV rows / JSON records).
JOINABLE_TYPES = ("text/csv", "application/json", "application/jsonlines")

DEFAULT_CONTENT_TYPE = "text/csv"
DEFAULT_MAX_PAYLOAD_MB = 6
MAX_PAYLOAD_MB = 100
MAX_CONCURRENCY_TIMES_PAYLOAD_MB = 100
DEFAULT_INVOCATIONS_TIMEOUT_S = 600
DEFAULT_INVOCATIONS_MAX_RETRIES = 3
MAX_INSTANCE_COUNT = 100
MAX_ENVIRONMENT_ENTRIES = 16
MAX_ENVIRONMENT_VALUE = 10240

S3_SOURCE = "TransformInput.DataSource.S3DataSource"
_S3_URI = re.compile(r"^(https|s3)://([^/]+)/?(.*)$")
_ENV_KEY = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]{0,1023}$")


class ValidationError(ValueError):
    """A request field breaks a rule; ``field`` is its path in the request."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


@dataclass(frozen=True)
class DataProcessing:
    input_filter: str = "$"
    join_source: Literal["None", "Input"] = "None"
    output_filter: str = "$"

    @property
    def is_identity(self) -> bool:
        """True when records pass through untouched (no filter, no join)."""
        return self.input_filter == "$" and self.output_filter == "$" and self.join_source == "None"


@dataclass(frozen=True)
class TransformSpec:
    """Everything the engine needs from a CreateTransformJob request, in Python's names."""

    input_uri: str
    output_path: str
    s3_data_type: Literal["S3Prefix", "ManifestFile"] = "S3Prefix"
    # SageMaker leaves ContentType optional; built-ins then read CSV, so that is the default here.
    content_type: str = DEFAULT_CONTENT_TYPE
    compression: Literal["None", "Gzip"] = "None"
    split_type: Literal["None", "Line", "RecordIO"] = "None"
    accept: str | None = None
    assemble_with: Literal["None", "Line"] = "None"
    batch_strategy: Literal["SingleRecord", "MultiRecord"] = "MultiRecord"
    max_payload_mb: int = DEFAULT_MAX_PAYLOAD_MB
    max_concurrent_transforms: int = 1
    environment: dict[str, str] = field(default_factory=dict)
    invocations_timeout_s: int = DEFAULT_INVOCATIONS_TIMEOUT_S
    invocations_max_retries: int = DEFAULT_INVOCATIONS_MAX_RETRIES
    data_processing: DataProcessing = field(default_factory=DataProcessing)
    instance_count: int = 1

    def __post_init__(self) -> None:
        _check_cross_field(self)

    @property
    def response_type(self) -> str:
        """The Accept sent to the model: the request's, else the content type."""
        return self.accept or self.content_type

    @property
    def max_payload_bytes(self) -> int:
        return self.max_payload_mb * 1024 * 1024

    @classmethod
    def from_request(cls, request: Mapping[str, Any]) -> TransformSpec:
        """Build from the PascalCase request (the TransformJob fields this engine uses)."""
        transform_input = _mapping(request, "TransformInput", required=True)
        data_source = _mapping(transform_input, "DataSource", "TransformInput", required=True)
        s3 = _mapping(data_source, "S3DataSource", "TransformInput.DataSource", required=True)
        transform_output = _mapping(request, "TransformOutput", required=True)
        resources = _mapping(request, "TransformResources", required=True)
        client_config = _mapping(request, "ModelClientConfig")
        processing = _mapping(request, "DataProcessing")
        split_type = _split_type(transform_input.get("SplitType", "None"))
        return cls(
            input_uri=_s3_uri(s3.get("S3Uri"), f"{S3_SOURCE}.S3Uri"),
            s3_data_type=_enum(s3.get("S3DataType"), S3_DATA_TYPES, f"{S3_SOURCE}.S3DataType"),
            content_type=_text(
                transform_input.get("ContentType", DEFAULT_CONTENT_TYPE),
                "TransformInput.ContentType",
            ),
            compression=_enum(
                transform_input.get("CompressionType", "None"),
                COMPRESSION_TYPES,
                "TransformInput.CompressionType",
            ),
            split_type=split_type,
            output_path=_s3_uri(
                transform_output.get("S3OutputPath"), "TransformOutput.S3OutputPath"
            ),
            accept=_optional_text(transform_output.get("Accept"), "TransformOutput.Accept"),
            assemble_with=_enum(
                transform_output.get("AssembleWith", "None"),
                ASSEMBLE_WITH,
                "TransformOutput.AssembleWith",
            ),
            batch_strategy=_enum(
                request.get("BatchStrategy", "MultiRecord"), BATCH_STRATEGIES, "BatchStrategy"
            ),
            max_payload_mb=_int(
                request.get("MaxPayloadInMB", DEFAULT_MAX_PAYLOAD_MB),
                "MaxPayloadInMB",
                0,
                MAX_PAYLOAD_MB,
            ),
            # 0 or unset asks the container; built-ins answer 1.
            max_concurrent_transforms=_int(
                request.get("MaxConcurrentTransforms", 0), "MaxConcurrentTransforms", 0, None
            )
            or 1,
            environment=_environment(request.get("Environment", {})),
            invocations_timeout_s=_int(
                client_config.get("InvocationsTimeoutInSeconds", DEFAULT_INVOCATIONS_TIMEOUT_S),
                "ModelClientConfig.InvocationsTimeoutInSeconds",
                1,
                3600,
            ),
            invocations_max_retries=_int(
                client_config.get("InvocationsMaxRetries", DEFAULT_INVOCATIONS_MAX_RETRIES),
                "ModelClientConfig.InvocationsMaxRetries",
                0,
                3,
            ),
            data_processing=DataProcessing(
                input_filter=_path(
                    processing.get("InputFilter", "$"), "DataProcessing.InputFilter"
                ),
                join_source=_enum(
                    processing.get("JoinSource", "None"), JOIN_SOURCES, "DataProcessing.JoinSource"
                ),
                output_filter=_path(
                    processing.get("OutputFilter", "$"), "DataProcessing.OutputFilter"
                ),
            ),
            instance_count=_int(
                resources.get("InstanceCount", 1),
                "TransformResources.InstanceCount",
                1,
                MAX_INSTANCE_COUNT,
            ),
        )


def _check_cross_field(spec: TransformSpec) -> None:
    """Rules that tie fields together; run for specs built in Python too."""
    if spec.max_payload_mb == 0:
        raise ValidationError(
            "MaxPayloadInMB",
            "0 (chunked streaming) is not supported by built-in algorithms; use 1 to 100",
        )
    if spec.max_concurrent_transforms * spec.max_payload_mb > MAX_CONCURRENCY_TIMES_PAYLOAD_MB:
        raise ValidationError(
            "MaxConcurrentTransforms",
            f"MaxConcurrentTransforms * MaxPayloadInMB must be at most "
            f"{MAX_CONCURRENCY_TIMES_PAYLOAD_MB} (got {spec.max_concurrent_transforms} * "
            f"{spec.max_payload_mb})",
        )
    processing = spec.data_processing
    if processing.is_identity:
        return
    if spec.split_type != "Line":
        # Filters and joins work record by record; a whole object is not a record we can parse.
        raise ValidationError(
            "TransformInput.SplitType", "must be Line when DataProcessing filters or joins records"
        )
    if processing.input_filter != "$" and spec.content_type not in JOINABLE_TYPES:
        raise ValidationError(
            "DataProcessing.InputFilter",
            f"needs TransformInput.ContentType to be one of {', '.join(JOINABLE_TYPES)}",
        )
    if processing.join_source == "Input":
        if spec.content_type not in JOINABLE_TYPES or spec.response_type != spec.content_type:
            raise ValidationError(
                "DataProcessing.JoinSource",
                f"Input needs TransformOutput.Accept equal to TransformInput.ContentType, one of "
                f"{', '.join(JOINABLE_TYPES)}",
            )
        if spec.assemble_with != spec.split_type:
            raise ValidationError(
                "DataProcessing.JoinSource",
                "Input needs TransformOutput.AssembleWith equal to TransformInput.SplitType (Line)",
            )
    if processing.output_filter != "$" and spec.response_type not in JOINABLE_TYPES:
        raise ValidationError(
            "DataProcessing.OutputFilter",
            f"needs TransformOutput.Accept to be one of {', '.join(JOINABLE_TYPES)}",
        )


def _mapping(
    parent: Mapping[str, Any], key: str, where: str = "", *, required: bool = False
) -> Mapping[str, Any]:
    path = f"{where}.{key}" if where else key
    value = parent.get(key)
    if value is None:
        if required:
            raise ValidationError(path, "is required")
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError(path, "must be an object")
    return value


def _enum(value: Any, allowed: tuple[str, ...], path: str) -> Any:
    if value not in allowed:
        raise ValidationError(path, f"must be one of {', '.join(allowed)} (got {value!r})")
    return value


def _split_type(value: Any) -> Any:
    if value in UNSUPPORTED_SPLIT_TYPES:
        raise ValidationError(
            "TransformInput.SplitType",
            f"{value} is not supported by this platform's built-in algorithms; use None, Line "
            "or RecordIO",
        )
    return _enum(value, SPLIT_TYPES, "TransformInput.SplitType")


def _int(value: Any, path: str, low: int, high: int | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(path, f"must be an integer (got {value!r})")
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValidationError(path, f"must be {bounds} (got {value})")
    return value


def _text(value: Any, path: str, max_length: int = 256) -> str:
    if not isinstance(value, str) or not value:
        raise ValidationError(path, "must be a non-empty string")
    if len(value) > max_length:
        raise ValidationError(path, f"must be at most {max_length} characters")
    return value


def _optional_text(value: Any, path: str) -> str | None:
    return None if value is None else _text(value, path)


def _s3_uri(value: Any, path: str) -> str:
    if value is None:
        raise ValidationError(path, "is required")
    if not isinstance(value, str) or len(value) > 1024 or not _S3_URI.match(value):
        raise ValidationError(
            path, "must match (https|s3)://bucket/key and be at most 1024 characters"
        )
    if not value.startswith("s3://"):
        raise ValidationError(path, "must be an s3:// URI on this platform")
    return value


def _environment(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ValidationError("Environment", "must be an object of string keys and values")
    if len(value) > MAX_ENVIRONMENT_ENTRIES:
        raise ValidationError("Environment", f"must have at most {MAX_ENVIRONMENT_ENTRIES} entries")
    for key, item in value.items():
        if not isinstance(key, str) or not _ENV_KEY.match(key):
            raise ValidationError(
                f"Environment.{key}", "keys must match [a-zA-Z_][a-zA-Z0-9_]{0,1023}"
            )
        if not isinstance(item, str) or len(item) > MAX_ENVIRONMENT_VALUE:
            raise ValidationError(
                f"Environment.{key}",
                f"must be a string of at most {MAX_ENVIRONMENT_VALUE} characters",
            )
    return dict(value)


def _path(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(path, "must be a JSONPath string")
    try:
        compile_path(value)
    except InvalidPath as error:
        raise ValidationError(path, error.rule) from None
    return value
