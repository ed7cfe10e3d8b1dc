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


_CELL = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers(-(10**20), 10**20).map(str),
    st.sampled_from(
        ["1.", ".5", "+3", "-0", "1e5", "2.5E-300", "007", "", "NaN", "inf", "1_0", " 4"]
    ),
)


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(st.lists(_CELL, min_size=1, max_size=4), min_size=1, max_size=4),
    ending=st.sampled_from(["\n", "\r\n"]),
    columns=st.sampled_from([None, 2]),
)
def test_a_small_body_reads_as_pandas_reads_it(rows, ending, columns) -> None:
    """Small bodies take a path of their own; whatever they hold, the answer (a matrix, bit for
    bit and column-major, or the error) is the general path's."""
    import numpy as np

    from algorithms import tabular

    body = ending.join(",".join(row) for row in rows).encode() + ending.encode()

    def read(small_bytes: int):
        tabular.SMALL_BYTES = small_bytes
        try:
            matrix = tabular.parse_csv(body, source="body", columns=columns, allow_missing=True)
        except DataError as error:
            return str(error)
        finally:
            tabular.SMALL_BYTES = 4096
        assert matrix.flags.f_contiguous or matrix.shape[0] <= 1
        return matrix.tobytes(order="F"), matrix.shape

    general = read(-1)
    small = read(4096)
    if isinstance(general, tuple) and isinstance(small, tuple):
        assert np.array_equal(np.frombuffer(small[0]), np.frombuffer(general[0]), equal_nan=True), (
            body,
            small,
            general,
        )
    assert small == general
