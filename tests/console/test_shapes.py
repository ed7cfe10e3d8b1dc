"""Every constraint of botocore's SageMaker model is checked, from the model, for every call."""

from __future__ import annotations

import json

import pytest

from console.core.java_regex import compiled_pattern
from console.core.shapes import ShapeError, service_model, validate_request
from tests.console.sagemaker.conftest import aws_call
from tests.console.test_rest_api import bearer

ROLE = "arn:aws:iam::123456789012:role/sagebrush"


def test_every_pattern_of_the_model_compiles_none_skipped():
    model = service_model()
    patterns = {model.shape_for(name).metadata.get("pattern") for name in model.shape_names}
    for pattern in patterns - {None}:
        compiled_pattern(pattern)


@pytest.mark.parametrize(
    ("key", "ok"),
    [
        ("team", True),
        ("équipe: données/2024 @x", True),  # \p{L}, \p{Z}, \p{N} and the listed symbols
        ("チーム", True),
        ("bad#key", False),
        ("emoji 😀", False),  # \p{So} is not in the TagKey class
        ("lone \ud800", False),
        ("", False),
        ("k" * 129, False),
    ],
)
def test_tag_keys_follow_the_models_unicode_pattern(key, ok):
    spec = {"ModelName": "m", "ExecutionRoleArn": ROLE, "Tags": [{"Key": key, "Value": "v"}]}
    if ok:
        validate_request("CreateModel", spec)
    else:
        with pytest.raises(ShapeError, match=r"tags\.1\.key"):
            validate_request("CreateModel", spec)


def test_surrogate_pair_ranges_mean_the_supplementary_planes():
    # DocumentSchemaVersion-style pattern: [\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\t]*
    pattern = compiled_pattern(r"[\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\t]*")
    assert pattern.fullmatch("text 😀\t")
    assert not pattern.fullmatch("\ud800")
    assert not pattern.fullmatch("\n")


def _training_job(**resource_config) -> dict:
    return {
        "TrainingJobName": "j",
        "RoleArn": ROLE,
        "OutputDataConfig": {"S3OutputPath": "s3://b/o"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "VolumeSizeInGB": 1, **resource_config},
    }


def test_integers_keep_their_wire_range_where_the_model_names_no_maximum():
    validate_request("CreateTrainingJob", _training_job(InstanceCount=2**31 - 1))
    with pytest.raises(ShapeError, match="less than or equal to 2147483647"):
        validate_request("CreateTrainingJob", _training_job(InstanceCount=2**31))
    with pytest.raises(ShapeError, match="Member must be an integer"):
        validate_request("CreateTrainingJob", _training_job(InstanceCount=1.5))


def test_a_union_takes_exactly_one_member():
    model = service_model()
    unions = [name for name in model.shape_names if model.shape_for(name).metadata.get("union")]
    assert unions  # the model has them; _structure checks them generically


@pytest.mark.django_db
def test_a_refused_tag_leaves_the_rest_api_answering(client, access_key):
    body = json.dumps(
        {"ModelName": "m", "ExecutionRoleArn": ROLE, "Tags": [{"Key": "\ud800", "Value": "v"}]}
    ).encode()
    response = aws_call(client, access_key, body, target="SageMaker.CreateModel")
    assert response.status_code == 400
    assert bearer(access_key).get("/api/v1/models/").status_code == 200
