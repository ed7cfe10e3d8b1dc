"""Search spaces: SageMaker's ParameterRanges rules, and encode/decode round trips."""

from __future__ import annotations

import math

import numpy as np
import pytest

from algorithms.tuning import SearchSpace, TuningValidationError


def continuous(name="lr", low="0.001", high="0.1", scaling="Linear"):
    """One Integer/Continuous range item in wire shape."""
    return {"Name": name, "MinValue": low, "MaxValue": high, "ScalingType": scaling}


REVERSE, LOG = "ReverseLogarithmic", "Logarithmic"


def space(**ranges) -> SearchSpace:
    return SearchSpace.from_parameter_ranges(ranges)


@pytest.mark.parametrize(
    ("ranges", "field_part", "rule_part"),
    [
        (
            {"ContinuousParameterRanges": [continuous(low="0", scaling=LOG)]},
            "MinValue",
            "Logarithmic",
        ),
        (
            {"IntegerParameterRanges": [continuous(low="-3", high="5", scaling=LOG)]},
            "MinValue",
            "MinValue > 0",
        ),
        (
            {"IntegerParameterRanges": [continuous(low="0", high="5", scaling=REVERSE)]},
            "ScalingType",
            "continuous ranges only",
        ),
        (
            {"ContinuousParameterRanges": [continuous(low="0.5", high="1", scaling=REVERSE)]},
            "ContinuousParameterRanges[0]",
            "0 <= MinValue < MaxValue < 1",
        ),
        (
            {"ContinuousParameterRanges": [continuous(low="-0.1", high="0.5", scaling=REVERSE)]},
            "ContinuousParameterRanges[0]",
            "0 <= MinValue",
        ),
        (
            {"ContinuousParameterRanges": [continuous(low="2", high="2")]},
            "[0]",
            "less than MaxValue",
        ),
        ({"IntegerParameterRanges": [continuous(low="9", high="3")]}, "[0]", "less than MaxValue"),
        ({"IntegerParameterRanges": [continuous(low="1.5", high="3")]}, "MinValue", "integer"),
        ({"ContinuousParameterRanges": [continuous(low="abc")]}, "MinValue", "number"),
        ({"ContinuousParameterRanges": [continuous(low=0.1)]}, "MinValue", "string"),
        (
            {"ContinuousParameterRanges": [continuous(scaling="Exponential")]},
            "ScalingType",
            "one of",
        ),
        (
            {
                "ContinuousParameterRanges": [continuous(name="a")],
                "CategoricalParameterRanges": [{"Name": "a", "Values": ["x"]}],
            },
            "CategoricalParameterRanges[0].Name",
            "duplicates",
        ),
        ({"CategoricalParameterRanges": [{"Name": "c", "Values": []}]}, "Values", "non-empty"),
        ({"CategoricalParameterRanges": [{"Name": "c", "Values": ["a", "a"]}]}, "Values", "repeat"),
        ({}, "ParameterRanges", "at least one"),
        ({"AutoParameters": [{"Name": "x"}]}, "AutoParameters", "not supported"),
    ],
)
def test_each_rule_is_refused_with_the_field_and_rule(ranges, field_part, rule_part):
    with pytest.raises(TuningValidationError) as caught:
        SearchSpace.from_parameter_ranges(ranges)
    assert field_part in caught.value.field
    assert rule_part in caught.value.rule


def test_the_parameter_is_named_in_the_error():
    with pytest.raises(TuningValidationError) as caught:
        space(ContinuousParameterRanges=[continuous(name="momentum", low="0", scaling=LOG)])
    assert caught.value.parameter == "momentum"
    assert "momentum" in str(caught.value)


def test_more_than_thirty_tunable_parameters_in_total_are_refused():
    ranges = {
        "ContinuousParameterRanges": [continuous(name=f"c{i}") for i in range(16)],
        "IntegerParameterRanges": [continuous(name=f"i{i}", low="1", high="9") for i in range(15)],
    }
    with pytest.raises(TuningValidationError, match="31 tunable parameters"):
        SearchSpace.from_parameter_ranges(ranges)
    ranges["IntegerParameterRanges"].pop()
    assert len(SearchSpace.from_parameter_ranges(ranges).names) == 30


def test_grid_accepts_only_categorical_ranges():
    ranges = {
        "CategoricalParameterRanges": [{"Name": "c", "Values": ["a", "b"]}],
        "IntegerParameterRanges": [continuous(name="n", low="1", high="4")],
    }
    with pytest.raises(TuningValidationError, match="Grid"):
        SearchSpace.from_parameter_ranges(ranges, strategy="Grid")
    assert SearchSpace.from_parameter_ranges(ranges, strategy="Random").dim == 3


def test_log_scale_spreads_decades_evenly():
    s = space(ContinuousParameterRanges=[continuous(low="1e-4", high="1", scaling=LOG)])
    for value, u in (("0.0001", 0.0), ("0.001", 0.25), ("0.01", 0.5), ("1.0", 1.0)):
        assert s.encode({"lr": value})[0] == pytest.approx(u)
        assert float(s.decode([u])["lr"]) == pytest.approx(float(value))


def test_reverse_log_puts_resolution_next_to_one():
    s = space(
        ContinuousParameterRanges=[continuous(name="m", low="0", high="0.999", scaling=REVERSE)]
    )
    # 1 - x spans three decades: 0.9 and 0.99 sit at one and two thirds of the cube.
    assert s.encode({"m": "0.9"})[0] == pytest.approx(1 / 3)
    assert s.encode({"m": "0.99"})[0] == pytest.approx(2 / 3)
    for u in np.linspace(0, 1, 11):
        assert s.encode(s.decode([u]))[0] == pytest.approx(u, abs=1e-12)


def test_auto_uses_log_for_two_decades_and_linear_otherwise():
    wide = space(ContinuousParameterRanges=[continuous(low="0.01", high="1", scaling="Auto")])
    narrow = space(ContinuousParameterRanges=[continuous(low="0.1", high="1", scaling="Auto")])
    signed = space(ContinuousParameterRanges=[continuous(low="-1", high="100", scaling="Auto")])
    assert wide.parameters[0].scaling == "Logarithmic"
    assert narrow.parameters[0].scaling == "Linear"
    assert signed.parameters[0].scaling == "Linear"


@pytest.mark.parametrize("scaling", ["Linear", "Logarithmic"])
def test_every_integer_round_trips_exactly_and_owns_a_cell(scaling):
    s = space(IntegerParameterRanges=[continuous(name="k", low="1", high="50", scaling=scaling)])
    for k in range(1, 51):
        u = s.encode({"k": str(k)})
        assert s.decode(u) == {"k": str(k)}
    counts = {}
    for u in np.linspace(0, 1, 2001):
        k = s.decode([u])["k"]
        counts[k] = counts.get(k, 0) + 1
    assert set(counts) == {str(k) for k in range(1, 51)}


def test_categoricals_are_one_hot_and_decode_by_argmax():
    s = space(
        CategoricalParameterRanges=[{"Name": "booster", "Values": ["gbtree", "dart", "gblinear"]}],
        IntegerParameterRanges=[continuous(name="depth", low="2", high="9")],
    )
    assert s.dim == 4
    assert s.names == ("depth", "booster")  # integer, continuous, then categorical ranges
    encoded = s.encode({"booster": "dart", "depth": "7"})
    assert list(encoded[1:]) == [0.0, 1.0, 0.0]
    assert s.decode([encoded[0], 0.2, 0.1, 0.7]) == {"booster": "gblinear", "depth": "7"}


def test_decoded_values_are_strings_as_training_jobs_receive_them():
    s = space(
        ContinuousParameterRanges=[continuous(name="eta", low="0.1", high="0.5")],
        IntegerParameterRanges=[continuous(name="rounds", low="10", high="200")],
    )
    hp = s.decode([0.3, 0.6])
    assert hp["rounds"].isdigit()
    assert float(repr(float(hp["eta"]))) == float(hp["eta"])
    assert repr(float(hp["eta"])) == hp["eta"]
    assert s.key(hp) == s.key({"eta": hp["eta"], "rounds": f"{hp['rounds']}.0"})


def test_decode_clips_outside_the_cube_and_stays_in_range():
    s = space(ContinuousParameterRanges=[continuous(low="1e-5", high="1e-1", scaling=LOG)])
    assert float(s.decode([-0.5])["lr"]) == pytest.approx(1e-5)
    assert float(s.decode([1.5])["lr"]) == pytest.approx(1e-1)
    assert math.isfinite(float(s.decode([0.5])["lr"]))
