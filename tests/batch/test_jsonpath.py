"""The DataProcessing JSONPath subset: every supported form, the refusals, inclusive slices."""

import pytest

from batch.jsonpath import InvalidPath, PathNotFound, compile_path

ROW = ["a", "b", "c", "d", "e", "f"]
RECORD = {"id": 7, "features": [1, 2, 3], "meta": {"source": "x"}, "label": 1}


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("$", ROW, ROW),
        ("$", RECORD, RECORD),
        ("$.id", RECORD, 7),
        ("$.meta.source", RECORD, "x"),
        ("$['id']", RECORD, 7),
        ("$['id','label']", RECORD, {"id": 7, "label": 1}),
        ('$["id", "features"]', RECORD, {"id": 7, "features": [1, 2, 3]}),
        ("$.features[0]", RECORD, 1),
        ("$.features[-1]", RECORD, 3),
        ("$[0]", ROW, "a"),
        ("$[-1]", ROW, "f"),
        ("$[-2]", ROW, "e"),
        ("$[0,-1]", ROW, ["a", "f"]),
        ("$[2, 0]", ROW, ["c", "a"]),
        ("$[*]", ROW, ROW),
        ("$.*", {"a": 1, "b": 2}, {"a": 1, "b": 2}),
        ("$[1:]", ROW, ["b", "c", "d", "e", "f"]),
        ("$[:2]", ROW, ["a", "b", "c"]),
        ("$[-2:]", ROW, ["e", "f"]),
        ("$[:-2]", ROW, ["a", "b", "c", "d", "e"]),
        ("$[*].x", [{"x": 1}, {"x": 2}], [1, 2]),
    ],
)
def test_supported_forms_select_what_the_reference_describes(path, value, expected):
    assert compile_path(path).apply(value) == expected


def test_slice_end_is_inclusive_as_sagemaker_documents():
    # SageMaker's docs: "$[1:4]" selects columns 2 to 5 of a CSV row, i.e. indexes 1..4.
    assert compile_path("$[1:4]").apply(ROW) == ["b", "c", "d", "e"]


def test_only_the_bare_root_is_the_identity():
    assert compile_path("$").is_root
    assert not compile_path("$[0:]").is_root


@pytest.mark.parametrize(
    ("path", "rule_part"),
    [
        ("features", "must start with the root '$'"),
        ("$.", "needs a name or '*'"),
        ("$[0", "unclosed '['"),
        ("$['a','b.c']", "nested bracket children are unsupported"),
        ("$[a]", "unsupported selector"),
        ("$..name", "needs a name or '*'"),
        ("$x", "expected '.' or '['"),
        ("$." + "a" * 63, "longer than 63 characters"),
    ],
)
def test_paths_outside_the_subset_are_refused_with_the_rule(path, rule_part):
    with pytest.raises(InvalidPath) as error:
        compile_path(path)
    assert rule_part in error.value.rule
    assert error.value.path == path


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("$[6]", ROW),
        ("$[-7]", ROW),
        ("$[1:9]", ROW),
        ("$[0,9]", ROW),
        ("$.missing", RECORD),
        ("$[0]", RECORD),
        ("$.id", ROW),
    ],
)
def test_selecting_beyond_the_record_is_an_error(path, value):
    with pytest.raises(PathNotFound):
        compile_path(path).apply(value)
