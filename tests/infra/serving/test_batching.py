"""Micro-batching answers each request exactly as a call of its own would."""

from __future__ import annotations

import json

import pytest

from algorithms import load_model
from infra.serving.batching import Call, invoke_batch
from tests.infra.serving.conftest import csv_row


@pytest.fixture(scope="module")
def model(lightgbm_model):
    return load_model(lightgbm_model[0])


class CountingModel:
    """The real model, counting the calls that reach it."""

    def __init__(self, model) -> None:
        self.model = model
        self.accepts = model.accepts
        self.calls = 0

    def invoke(self, body, content_type, accept):
        self.calls += 1
        return self.model.invoke(body, content_type, accept)


def test_concurrent_csv_requests_take_one_model_call(model, lightgbm_model, expected) -> None:
    rows = lightgbm_model[1]
    counting = CountingModel(model)
    two_rows = csv_row(rows[3]) + b"\n" + csv_row(rows[4]) + b"\n"
    calls = [Call(csv_row(row), "text/csv", "text/csv") for row in rows[:3]]
    calls.append(Call(two_rows, "text/csv", "text/csv"))

    outcomes = invoke_batch(counting, calls)

    assert counting.calls == 1
    assert [o.body for o in outcomes[:3]] == expected[:3]
    assert outcomes[3].body == expected[3] + expected[4]
    assert {o.content_type for o in outcomes} == {"text/csv"}


def test_a_bad_request_gets_its_own_error_and_spoils_no_other(model, lightgbm_model, expected):
    rows = lightgbm_model[1]
    calls = [
        Call(csv_row(rows[0]), "text/csv", "text/csv"),
        Call(b"1.0,2.0", "text/csv", "text/csv"),
        Call(csv_row(rows[1]), "text/csv", "text/csv"),
    ]

    good, bad, also_good = invoke_batch(model, calls)

    assert (good.body, also_good.body) == (expected[0], expected[1])
    assert not bad.ok and "2 columns" in bad.error


def test_json_and_mixed_types_are_answered_one_by_one(model, lightgbm_model, expected) -> None:
    rows = lightgbm_model[1]
    counting = CountingModel(model)
    document = json.dumps({"instances": [rows[0].tolist()]}).encode()
    calls = [
        Call(document, "application/json", "application/json"),
        Call(csv_row(rows[1]), "text/csv", "application/json"),
        Call(csv_row(rows[2]), "text/csv", "text/csv"),
    ]

    as_json, csv_as_json, as_csv = invoke_batch(counting, calls)

    assert counting.calls == 3
    assert as_json.content_type == "application/json"
    score = json.loads(as_json.body)["predictions"][0]["score"]
    assert f"{score!r}".encode() in expected[0] or abs(score - float(expected[0])) < 1e-9
    assert csv_as_json.content_type == "application/json"
    assert as_csv.body == expected[2]
