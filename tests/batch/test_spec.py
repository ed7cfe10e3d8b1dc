"""Building a TransformSpec from the CreateTransformJob request shape, and every refusal."""

import copy

import pytest

from batch.spec import TransformSpec, ValidationError

REQUEST = {
    "TransformJobName": "score",
    "ModelName": "churn",
    "TransformInput": {
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://data/in/"}},
        "ContentType": "text/csv",
        "SplitType": "Line",
    },
    "TransformOutput": {"S3OutputPath": "s3://data/out/", "AssembleWith": "Line"},
    "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 2},
}


def with_fields(**changes) -> dict:
    """REQUEST with dotted paths set (value None removes the field)."""
    request = copy.deepcopy(REQUEST)
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = request
        for name in parents:
            node = node.setdefault(name, {})
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return request


def refusal(request: dict) -> ValidationError:
    with pytest.raises(ValidationError) as error:
        TransformSpec.from_request(request)
    return error.value


def test_a_minimal_request_gets_sagemakers_defaults():
    spec = TransformSpec.from_request(REQUEST)
    assert spec.input_uri == "s3://data/in/"
    assert spec.split_type == "Line"
    assert spec.batch_strategy == "MultiRecord"
    assert spec.max_payload_mb == 6
    assert spec.max_payload_bytes == 6 * 1024 * 1024
    assert spec.max_concurrent_transforms == 1
    assert spec.invocations_timeout_s == 600
    assert spec.invocations_max_retries == 3
    assert spec.compression == "None"
    assert spec.instance_count == 2
    assert spec.data_processing.is_identity
    assert spec.response_type == "text/csv"  # no Accept: the model answers in the input's type


def test_every_field_is_read():
    spec = TransformSpec.from_request(
        with_fields(
            TransformInput__CompressionType="Gzip",
            TransformInput__ContentType="application/jsonlines",
            TransformInput__DataSource__S3DataSource__S3DataType="ManifestFile",
            TransformOutput__Accept="application/jsonlines",
            BatchStrategy="SingleRecord",
            MaxPayloadInMB=20,
            MaxConcurrentTransforms=5,
            Environment={"LOG_LEVEL": "debug"},
            ModelClientConfig={"InvocationsTimeoutInSeconds": 30, "InvocationsMaxRetries": 0},
            DataProcessing={
                "InputFilter": "$.features",
                "JoinSource": "Input",
                "OutputFilter": "$['id','SageMakerOutput']",
            },
        )
    )
    assert spec.compression == "Gzip"
    assert spec.s3_data_type == "ManifestFile"
    assert spec.batch_strategy == "SingleRecord"
    assert (spec.max_payload_mb, spec.max_concurrent_transforms) == (20, 5)
    assert spec.environment == {"LOG_LEVEL": "debug"}
    assert (spec.invocations_timeout_s, spec.invocations_max_retries) == (30, 0)
    assert spec.data_processing.join_source == "Input"
    assert spec.data_processing.output_filter == "$['id','SageMakerOutput']"


@pytest.mark.parametrize(
    ("changes", "field", "rule_part"),
    [
        ({"TransformInput": None}, "TransformInput", "is required"),
        ({"TransformOutput__S3OutputPath": None}, "TransformOutput.S3OutputPath", "is required"),
        (
            {"TransformInput__DataSource__S3DataSource__S3Uri": "data/in"},
            "TransformInput.DataSource.S3DataSource.S3Uri",
            "(https|s3)://",
        ),
        (
            {"TransformInput__DataSource__S3DataSource__S3DataType": "AugmentedManifestFile"},
            "TransformInput.DataSource.S3DataSource.S3DataType",
            "S3Prefix, ManifestFile",
        ),
        ({"TransformInput__SplitType": "TFRecord"}, "TransformInput.SplitType", "not supported"),
        ({"TransformInput__SplitType": "Lines"}, "TransformInput.SplitType", "None, Line"),
        ({"TransformInput__CompressionType": "Zip"}, "TransformInput.CompressionType", "Gzip"),
        ({"TransformOutput__AssembleWith": "Newline"}, "TransformOutput.AssembleWith", "Line"),
        ({"BatchStrategy": "MULTI_RECORD"}, "BatchStrategy", "SingleRecord, MultiRecord"),
        ({"MaxPayloadInMB": 101}, "MaxPayloadInMB", "between 0 and 100"),
        ({"MaxPayloadInMB": 0}, "MaxPayloadInMB", "not supported by built-in algorithms"),
        ({"MaxPayloadInMB": "6"}, "MaxPayloadInMB", "must be an integer"),
        (
            {"MaxPayloadInMB": 30, "MaxConcurrentTransforms": 4},
            "MaxConcurrentTransforms",
            "at most 100",
        ),
        (
            {"ModelClientConfig": {"InvocationsTimeoutInSeconds": 0}},
            "ModelClientConfig.InvocationsTimeoutInSeconds",
            "between 1 and 3600",
        ),
        (
            {"ModelClientConfig": {"InvocationsMaxRetries": 4}},
            "ModelClientConfig.InvocationsMaxRetries",
            "between 0 and 3",
        ),
        (
            {"TransformResources__InstanceCount": 0},
            "TransformResources.InstanceCount",
            "between 1 and 100",
        ),
        ({"Environment": {"1BAD": "x"}}, "Environment.1BAD", "keys must match"),
        ({"Environment": {f"K{n}": "v" for n in range(17)}}, "Environment", "at most 16"),
        (
            {"DataProcessing": {"InputFilter": "features"}},
            "DataProcessing.InputFilter",
            "must start with the root '$'",
        ),
        (
            {"DataProcessing": {"OutputFilter": "$['a','b.c']"}},
            "DataProcessing.OutputFilter",
            "nested bracket children",
        ),
        ({"DataProcessing": {"JoinSource": "Output"}}, "DataProcessing.JoinSource", "None, Input"),
    ],
)
def test_refusals_name_the_field_and_the_rule(changes, field, rule_part):
    error = refusal(with_fields(**changes))
    assert error.field == field
    assert rule_part in error.rule
    assert str(error).startswith(f"{field}: ")


def test_join_needs_accept_equal_to_content_type():
    error = refusal(
        with_fields(
            TransformOutput__Accept="application/jsonlines", DataProcessing={"JoinSource": "Input"}
        )
    )
    assert error.field == "DataProcessing.JoinSource"
    assert "Accept equal to TransformInput.ContentType" in error.rule


def test_join_needs_assemble_with_equal_to_split_type():
    error = refusal(
        with_fields(TransformOutput__AssembleWith="None", DataProcessing={"JoinSource": "Input"})
    )
    assert error.field == "DataProcessing.JoinSource"
    assert "AssembleWith equal to TransformInput.SplitType" in error.rule


def test_filters_need_line_splitting():
    error = refusal(
        with_fields(TransformInput__SplitType="None", DataProcessing={"InputFilter": "$[1:]"})
    )
    assert error.field == "TransformInput.SplitType"


def test_filters_need_a_csv_or_json_content_type():
    error = refusal(
        with_fields(
            TransformInput__ContentType="application/x-parquet",
            TransformOutput__Accept="text/csv",
            DataProcessing={"InputFilter": "$[1:]"},
        )
    )
    assert error.field == "DataProcessing.InputFilter"


def test_the_reference_join_setup_is_accepted():
    spec = TransformSpec.from_request(
        with_fields(
            DataProcessing={
                "InputFilter": "$[1:]",
                "JoinSource": "Input",
                "OutputFilter": "$[0,-1]",
            }
        )
    )
    assert not spec.data_processing.is_identity
