"""MetricDefinitions: SageMaker-style regex extraction of metrics from log lines."""

from __future__ import annotations

import pytest

from algorithms.metrics import (
    MetricDefinitionError,
    MetricExtractingReporter,
    extract_metrics,
    parse_metric_definitions,
)
from tests.fakes import RecordingReporter


def test_group_one_of_every_definition_becomes_a_value() -> None:
    definitions = parse_metric_definitions(
        [
            {"Name": "train:loss", "Regex": r"Loss = (.*?);"},
            {"Name": "validation:accuracy", "Regex": r"val_acc=([0-9.eE+-]+)"},
        ]
    )

    found = list(extract_metrics("epoch 3 Loss = 0.25; val_acc=0.875", definitions))

    assert found == [("train:loss", 0.25), ("validation:accuracy", 0.875)]


def test_each_match_on_a_line_is_a_value_and_non_numbers_are_skipped() -> None:
    definitions = parse_metric_definitions([{"Name": "loss", "Regex": r"loss=(\S+)"}])

    assert list(extract_metrics("loss=1e-3 loss=nan? loss=abc loss=2", definitions)) == [
        ("loss", 0.001),
        ("loss", 2.0),
    ]
    assert list(extract_metrics("nothing to see", definitions)) == []


@pytest.mark.parametrize(
    ("definition", "rule"),
    [
        ({"Name": "acc", "Regex": "acc=("}, "not a valid expression"),
        ({"Name": "acc", "Regex": r"acc=\d+"}, "group 1"),
        ({"Name": "", "Regex": "(x)"}, "Name must be"),
        ({"Name": "acc", "Regex": "(x)" * 200}, "Regex must be"),
    ],
)
def test_unusable_definitions_are_rejected_naming_the_rule(definition, rule) -> None:
    with pytest.raises(MetricDefinitionError, match=rule):
        parse_metric_definitions([definition])


def test_at_most_forty_definitions() -> None:
    definitions = [{"Name": f"m{i}", "Regex": r"(\d)"} for i in range(41)]

    with pytest.raises(MetricDefinitionError, match="at most 40"):
        parse_metric_definitions(definitions)


def test_reporter_wrapper_logs_every_line_and_records_metrics_from_it() -> None:
    inner = RecordingReporter()
    reporter = MetricExtractingReporter(
        inner, parse_metric_definitions([{"Name": "train:loss", "Regex": r"loss: ([\d.]+)"}])
    )

    reporter.log("epoch 1 loss: 0.5")
    reporter.log("epoch 2\nloss: 0.25")
    reporter.metric("validation:rmse", 1.5, step=2)

    assert inner.lines == ["epoch 1 loss: 0.5", "epoch 2\nloss: 0.25"]
    assert inner.metrics == [
        ("train:loss", 0.5, None),
        ("train:loss", 0.25, None),
        ("validation:rmse", 1.5, 2),
    ]
