"""Inference bodies in, predictions out: shapes, order, blank lines and errors by line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from algorithms import DataError, UnsupportedContentType
from algorithms.codecs import Predictions, decode, encode, negotiate


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"1,2\r\n\r\n3,4\r\n", "text/csv"),
        (b"1,2\n3,4", "text/csv; charset=utf-8"),
        (b'{"features": [1, 2]}\n\n[3, 4]\n', "application/jsonlines"),
        (b'{"instances": [[1, 2], {"features": [3, 4]}]}', "application/json"),
        (b"[[1, 2], [3, 4]]", "application/json"),
    ],
)
def test_every_request_shape_decodes_to_the_same_matrix(body: bytes, content_type: str) -> None:
    np.testing.assert_array_equal(decode(body, content_type), [[1, 2], [3, 4]])


def test_a_single_json_record_is_one_row() -> None:
    np.testing.assert_array_equal(decode(b'{"features": [1, 2]}', "application/json"), [[1, 2]])


@pytest.mark.parametrize(
    ("body", "content_type", "line", "message"),
    [
        (b"1,2\n\n3,x\n", "text/csv", 3, "not a number: 'x'"),
        (b"1,2\n3\n", "text/csv", 2, "1 columns; expected 2"),
        (b"1,2\n3,4,5\n", "text/csv", 2, "3 columns; expected 2"),
        (b"[1, 2]\n\n{\n", "application/jsonlines", 3, "not valid JSON"),
        (b"[1, 2]\n[1]\n", "application/jsonlines", 2, "1 features; expected 2"),
    ],
)
def test_bad_records_name_their_line(body, content_type, line, message) -> None:
    with pytest.raises(DataError, match=message) as caught:
        decode(body, content_type)
    assert caught.value.line == line


def test_the_expected_feature_count_is_enforced() -> None:
    with pytest.raises(DataError, match="expected 3") as caught:
        decode(b"\n1,2\n", "text/csv", feature_count=3)
    assert caught.value.line == 2
    with pytest.raises(DataError, match="instance 2 has 2 features; expected 3"):
        decode(b'{"instances": [[1, 2, 3], [1, 2]]}', "application/json", feature_count=3)


def test_unknown_types_are_refused() -> None:
    with pytest.raises(UnsupportedContentType, match="'image/png' is not supported"):
        decode(b"", "image/png")
    with pytest.raises(UnsupportedContentType):
        negotiate("text/html", "text/csv")


def test_accept_defaults_to_the_request_type() -> None:
    assert negotiate(None, "application/jsonlines") == "application/jsonlines"
    assert negotiate("*/*", "text/csv") == "text/csv"
    assert negotiate("text/html, application/json", "text/csv") == "application/json"


PREDICTIONS = Predictions(
    outputs={"predicted_label": np.array([1, 0]), "score": np.array([0.75, 0.25])},
    csv=("predicted_label",),
)


def test_line_types_give_one_line_per_record_in_order() -> None:
    assert encode(PREDICTIONS, "text/csv") == b"1\n0\n"
    lines = encode(PREDICTIONS, "application/jsonlines").decode().splitlines()
    assert [json.loads(line) for line in lines] == [
        {"predicted_label": 1, "score": 0.75},
        {"predicted_label": 0, "score": 0.25},
    ]


def test_json_wraps_records_in_predictions() -> None:
    document = json.loads(encode(PREDICTIONS, "application/json"))
    assert document == {
        "predictions": [
            {"predicted_label": 1, "score": 0.75},
            {"predicted_label": 0, "score": 0.25},
        ]
    }


def test_vector_outputs_spread_over_csv_columns() -> None:
    vectors = Predictions(
        outputs={"projection": np.array([[1.5, 2.0], [3.0, 4.5]])}, csv=("projection",)
    )
    assert encode(vectors, "text/csv") == b"1.5,2.0\n3.0,4.5\n"
