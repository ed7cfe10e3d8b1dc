"""A fuzzer over every SageMaker operation the platform registers, and the runtime route.

Requests are generated from botocore's input shapes, then spoiled: wrong types, missing or
unknown members, empty and huge strings, odd numbers, deep JSON, other encodings, and signature
variants (body swap, wrong scope, clock skew, a wrong payload-hash claim). Whatever arrives, the
answer is never a 5xx, and every refusal is in the AWS error shape.

``SAGEBRUSH_FUZZ_EXAMPLES`` sets the examples per test (small by default, so the suite stays
fast); e.g. ``SAGEBRUSH_FUZZ_EXAMPLES=5000 pytest tests/console/sagemaker/test_fuzz.py``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from datetime import UTC, datetime, timedelta

import pytest
from botocore.model import Shape
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from console.core.java_regex import compiled_pattern
from console.core.shapes import operation_model
from console.sagemaker import views  # noqa: F401  (importing it registers every operation)
from console.sagemaker.operations import OPERATIONS
from tests.console.sagemaker.conftest import JSON_1_1, post, sign

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("SAGEBRUSH_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
OPERATION_NAMES = sorted(OPERATIONS)
MAX_DEPTH = 4  # deeper members are left out (or spoiled): requests stay small

# Any JSON value of the wrong kind, including the awkward ones.
odd_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["", " ", "\x00", "é", "😀", "a" * 5000, "1e400", "-", "null"]),
    st.text(max_size=8),
)
odd_values = st.one_of(odd_scalars, st.lists(odd_scalars, max_size=2), st.just({}))


@functools.cache
def _matching(pattern: str) -> st.SearchStrategy:
    """Strings ``pattern`` accepts: one strategy per pattern, since Hypothesis spends seconds
    building one for a wide character class (Application Auto Scaling's ``XmlString``) and
    many shapes share a pattern."""
    return st.from_regex(compiled_pattern(pattern), fullmatch=True)


@functools.cache
def _string(shape: Shape) -> st.SearchStrategy:
    if shape.enum:
        return st.sampled_from(shape.enum)
    low = shape.metadata.get("min", 0)
    high = min(shape.metadata.get("max", 64), 64)
    plausible = st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True)
    if pattern := shape.metadata.get("pattern"):
        # Strings the model's own pattern accepts, so that requests get past validation
        # into the services.
        plausible = _matching(pattern).filter(lambda value: low <= len(value) <= max(low, high))
    return st.one_of(plausible, st.text(min_size=low, max_size=max(low, high)))


def _number(shape: Shape) -> st.SearchStrategy:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if shape.type_name in ("integer", "long"):
        inside = st.integers(min_value=low, max_value=high)
        return st.one_of(inside, st.integers(min_value=-(2**65), max_value=2**65))
    return st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False)


def _timestamp(_: Shape) -> st.SearchStrategy:
    return st.one_of(
        st.integers(min_value=-(10**13), max_value=10**13),
        st.floats(min_value=-1e20, max_value=1e20),
        st.sampled_from(["2024-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "10000-01-01"]),
    )


def value_for(shape: Shape, depth: int = 0) -> st.SearchStrategy:
    """A value of ``shape``, or (one time in eight) a value of the wrong kind."""
    return st.one_of(*[_proper(shape, depth)] * 7, odd_values)


def _proper(shape: Shape, depth: int) -> st.SearchStrategy:
    kind = shape.type_name
    if kind == "structure":
        return _structure(shape, depth)
    if depth >= MAX_DEPTH and kind in ("list", "map"):
        return st.just([] if kind == "list" else {})
    if kind == "list":
        return st.lists(value_for(shape.member, depth + 1), max_size=2)
    if kind == "map":
        return st.dictionaries(_string(shape.key), value_for(shape.value, depth + 1), max_size=2)
    if kind == "string":
        return _string(shape)
    if kind in ("integer", "long", "float", "double"):
        return _number(shape)
    if kind == "boolean":
        return st.booleans()
    if kind == "timestamp":
        return _timestamp(shape)
    return odd_values


def _structure(shape: Shape, depth: int) -> st.SearchStrategy:
    if depth >= MAX_DEPTH:
        return st.just({})
    required = list(shape.required_members)
    optional = sorted(set(shape.members) - set(required))

    @st.composite
    def build(draw) -> dict:
        names = [name for name in required if draw(st.integers(0, 9))]  # now and then one missing
        names += (
            draw(st.lists(st.sampled_from(optional), max_size=3, unique=True)) if optional else []
        )
        value = {name: draw(value_for(shape.members[name], depth + 1)) for name in names}
        if not draw(st.integers(0, 15)):
            value[draw(st.sampled_from(["Bogus", "", "\u00e9"]))] = draw(odd_scalars)
        return value

    return build()


def request_body(operation: str) -> st.SearchStrategy:
    shape = operation_model(operation).input_shape
    return _structure(shape, 0) if shape is not None else st.just({})


# How the JSON document goes on the wire.
def _spoiled_bytes(document: object) -> st.SearchStrategy[bytes]:
    text = json.dumps(document)
    utf8 = text.encode()
    return st.sampled_from(
        [
            utf8,
            utf8,
            utf8,
            json.dumps(document, ensure_ascii=False).encode(),
            text.encode("utf-16"),
            b"\xef\xbb\xbf" + utf8,
            utf8[: len(utf8) // 2],
            b"",
            b"[" * 50_000 + b"]" * 50_000,
            b'{"a": ' + b"[" * 100 + b"]" * 100 + b"}",
            b'{"MaxResults": ' + b"7" * 5000 + b"}",
            b'{"MaxResults": NaN}',
            b'{"NextToken": "\\ud800"}',
            b"\xff\xfe\x00",
            b"null",
            b"[]",
        ]
    )


SIGNING_VARIANTS = [
    "valid",
    "valid",
    "valid",
    "body-swap",
    "wrong-service",
    "wrong-region",
    "skew",
    "wrong-secret",
    "hash-claim",
    "no-auth",
    "garbage-auth",
]


def _headers(key, body: bytes, variant: str, **signing) -> tuple[dict[str, str], bytes]:
    """Headers for ``body`` signed per ``variant``, and the body actually sent."""
    sent = body
    if variant == "body-swap":
        sent = body + b" "
    elif variant == "wrong-service":
        signing["service"] = "s3"
    elif variant == "wrong-region":
        signing["region"] = "eu-west-3"
    elif variant == "skew":
        signing["when"] = datetime.now(UTC) - timedelta(minutes=20)
    elif variant == "wrong-secret":
        signing["secret"] = "not-the-secret"
    elif variant == "hash-claim":
        claim = hashlib.sha256(b"another body").hexdigest()
        signing["headers"] = {"X-Amz-Content-SHA256": claim}
    headers = sign(key, body, **signing)
    if variant == "no-auth":
        headers.pop("Authorization")
    elif variant == "garbage-auth":
        headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=x, Signature=zz"
    return headers, sent


def _assert_control_plane_answer(response) -> None:
    assert response.status_code < 500, response.content[:500]
    assert response["Content-Type"] == JSON_1_1
    body = json.loads(response.content)
    event(f"{response.status_code} {body.get('__type', 'OK')}")  # --hypothesis-show-statistics
    if response.status_code >= 400:
        assert isinstance(body.get("__type"), str) and body["__type"], body
        assert isinstance(body.get("message") or body.get("Message"), str), body
        assert response["x-amzn-RequestId"]


@st.composite
def control_plane_request(draw):
    operation = draw(st.sampled_from(OPERATION_NAMES))
    body = draw(_spoiled_bytes(draw(request_body(operation))))
    target = draw(
        st.sampled_from(
            [f"SageMaker.{operation}"] * 6 + ["SageMaker.MakeCoffee", "sagemaker.ListModels", None]
        )
    )
    return target, body, draw(st.sampled_from(SIGNING_VARIANTS))


@FUZZ
@given(request=control_plane_request())
def test_no_control_plane_request_gets_a_5xx_or_a_non_aws_answer(client, access_key, request):
    target, body, variant = request
    headers, sent = _headers(access_key, body, variant, target=target)
    response = post(client, headers, sent)
    if target is None and variant == "wrong-service":
        # Signed for s3 and naming no JSON target: the S3 API's call, refused in its own shape.
        assert 400 <= response.status_code < 500, response.content[:500]
        assert response["Content-Type"] == "application/xml"
        assert b"<Error><Code>" in response.content
        return
    _assert_control_plane_answer(response)


@pytest.mark.parametrize("operation", OPERATION_NAMES)
def test_every_operation_answers_its_generated_requests(client, access_key, operation):
    """A few well-signed requests per operation, so that each is reached every run."""

    @settings(FUZZ, max_examples=max(3, EXAMPLES // 20))
    @given(document=request_body(operation))
    def check(document):
        body = json.dumps(document).encode()
        headers = sign(access_key, body, target=f"SageMaker.{operation}")
        _assert_control_plane_answer(post(client, headers, body))

    check()


@FUZZ
@given(
    name=st.one_of(st.from_regex(r"[a-zA-Z0-9-]{1,70}", fullmatch=True), st.just("x" * 300)),
    body=st.binary(max_size=64),
    content_type=st.sampled_from(
        ["text/csv", "application/json", "", "application/x-amz-json-1.1"]
    ),
    variant=st.sampled_from(SIGNING_VARIANTS),
)
def test_no_runtime_request_gets_a_5xx_or_a_non_aws_answer(
    client, access_key, name, body, content_type, variant
):
    path = f"/endpoints/{name}/invocations"
    headers, sent = _headers(
        access_key, body, variant, target=None, path=path, content_type=content_type
    )
    response = post(client, headers, sent, path=path)
    assert response.status_code < 500, response.content[:500]
    if response.status_code >= 400:
        assert response["x-amzn-ErrorType"]
        assert isinstance(json.loads(response.content)["message"], str)
