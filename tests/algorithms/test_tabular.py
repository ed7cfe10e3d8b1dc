"""The line-length guard of the CSV and JSON Lines parsers: it finds exactly the lines over the
limit, and names the first, while probing only a little of each window of the data."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from algorithms import DataError
from algorithms.text_lines import check_line_length


def _first_too_long(data: bytes, limit: int) -> int | None:
    for number, line in enumerate(data.split(b"\n"), start=1):
        if len(line) > limit:
            return number
    return None


@settings(max_examples=150, deadline=None)
@given(
    lengths=st.lists(st.integers(min_value=0, max_value=60), max_size=12),
    ends_with_newline=st.booleans(),
    limit=st.integers(min_value=1, max_value=40),
)
def test_the_first_line_over_the_limit_is_named_and_no_other(
    lengths, ends_with_newline, limit
) -> None:
    data = b"\n".join(b"x" * length for length in lengths) + (b"\n" if ends_with_newline else b"")
    expected = _first_too_long(data, limit)
    if expected is None:
        check_line_length(data, source="train/d.csv", limit=limit)
        return
    with pytest.raises(DataError, match=f"line is longer than {limit} bytes") as caught:
        check_line_length(data, source="train/d.csv", limit=limit)
    assert (caught.value.source, caught.value.line) == ("train/d.csv", expected)


def test_a_file_of_ordinary_lines_passes_and_one_long_line_is_named(tmp_path) -> None:
    path = tmp_path / "d.csv"
    path.write_bytes(b"1,2,3\r\n" * 1000 + b"9" * 101 + b"\n" + b"1,2,3\n")
    check_line_length(path, source="train/d.csv", limit=101)
    with pytest.raises(DataError) as caught:
        check_line_length(path, source="train/d.csv", limit=100)
    assert caught.value.line == 1001
