"""Reading training channels: formats, gzip, file order, errors that say where, and hostile
input (gzip bombs, lines with no end, other encodings) refused in bounded memory."""

from __future__ import annotations

import codecs
import gzip
import tracemalloc

import numpy as np
import psutil
import pytest

from algorithms import Channel, DataError, data, tabular
from algorithms.data import read_channel

from .conftest import channel, write_csv, write_jsonlines, write_libsvm


def test_csv_label_is_column_zero_and_files_are_read_in_key_order(tmp_path) -> None:
    features = np.arange(12, dtype=float).reshape(6, 2)
    labels = np.arange(6, dtype=float)
    write_csv(tmp_path / "train" / "b" / "part-2.csv", features[4:], labels[4:])
    write_csv(tmp_path / "train" / "a.csv.gz", features[:2], labels[:2])
    write_csv(tmp_path / "train" / "b" / "part-1.csv", features[2:4], labels[2:4])
    (tmp_path / "train" / ".DS_Store").write_text("junk")
    dataset = read_channel(channel(tmp_path / "train"))
    np.testing.assert_array_equal(dataset.labels, labels)
    np.testing.assert_array_equal(dataset.features, features)


def test_csv_tolerates_crlf_and_blank_lines(tmp_path) -> None:
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "data.csv").write_bytes(b"1,2,3\r\n\r\n0,4,5\r\n")
    dataset = read_channel(channel(tmp_path / "train"))
    np.testing.assert_array_equal(dataset.features, [[2, 3], [4, 5]])


def test_unlabelled_csv_keeps_every_column(tmp_path) -> None:
    write_csv(tmp_path / "train" / "x.csv", np.ones((3, 4)))
    dataset = read_channel(channel(tmp_path / "train"), labelled=False)
    assert dataset.features.shape == (3, 4) and dataset.labels is None


def test_jsonlines_and_libsvm_give_the_same_data(tmp_path) -> None:
    features = np.array([[1.5, 0.0, 2.0], [0.0, 3.0, 0.0]])
    labels = np.array([1.0, 0.0])
    write_jsonlines(tmp_path / "json" / "d.jsonl.gz", features, labels)
    write_libsvm(tmp_path / "svm" / "d.libsvm", features, labels)
    from_json = read_channel(channel(tmp_path / "json", "application/jsonlines"))
    from_svm = read_channel(channel(tmp_path / "svm", "text/libsvm"), allow_sparse=True)
    np.testing.assert_array_equal(from_json.features, features)
    np.testing.assert_array_equal(from_svm.features.toarray(), features)
    np.testing.assert_array_equal(from_json.labels, labels)
    np.testing.assert_array_equal(from_svm.labels, labels)


def _write(tmp_path, name: str, text: str, *, compress: bool = False) -> Channel:
    folder = tmp_path / "train"
    folder.mkdir(exist_ok=True)
    data = text.encode()
    (folder / name).write_bytes(gzip.compress(data) if compress else data)
    return channel(folder)


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        ("1,2,3\n0,abc,5\n", 2, 2, "not a number: 'abc'"),
        ("1,2,3\n0,4,5\n1,2\n", 3, None, "record has 2 columns; expected 3"),
        ("1,2,3\n\n0,4,5,6\n", 3, None, "record has 4 columns; expected 3"),
        ("label,a,b\n1,2,3\n", 1, 1, "no header row"),
        ("1,2,3\n,4,5\n", 2, 1, "label is missing"),
        ("1,2,3\n0,,5\n", 2, 2, "value is missing"),
    ],
)
def test_bad_csv_rows_name_file_line_and_column(tmp_path, text, line, column, message) -> None:
    with pytest.raises(DataError, match=message) as caught:
        read_channel(_write(tmp_path, "part.csv.gz", text, compress=True))
    assert (caught.value.source, caught.value.line, caught.value.column) == (
        "train/part.csv.gz",
        line,
        column,
    )


@pytest.fixture
def in_pieces(monkeypatch):
    """Bodies of a few hundred bytes are parsed in pieces on threads, as large ones are."""
    monkeypatch.setattr(tabular, "PIECE_BYTES", 64)
    monkeypatch.setattr(tabular.os, "cpu_count", lambda: 4)


@pytest.mark.parametrize("compress", [False, True], ids=["read-in-place", "gunzipped"])
def test_a_large_csv_read_in_pieces_gives_the_same_data(tmp_path, in_pieces, compress) -> None:
    rng = np.random.default_rng(3)
    features, labels = rng.normal(size=(50, 3)), rng.integers(0, 2, size=50).astype(float)
    rows = [
        ",".join(repr(float(v)) for v in (y, *x)) for y, x in zip(labels, features, strict=True)
    ]
    # CRLF line ends, with a blank line after every seventh record.
    text = "".join(
        row + ("\r\n\r\n" if index % 7 == 0 else "\r\n") for index, row in enumerate(rows)
    )
    dataset = read_channel(_write(tmp_path, "big.csv", text, compress=compress))
    np.testing.assert_array_equal(dataset.labels, labels)
    np.testing.assert_array_equal(dataset.features, features)


@pytest.mark.parametrize("compress", [False, True], ids=["read-in-place", "gunzipped"])
@pytest.mark.parametrize(
    ("bad", "column", "message"),
    [
        ("0,abc,5,6", 2, "not a number: 'abc'"),
        ("0,4,5", None, "record has 3 columns; expected 4"),
        ("0,4,5,6,7", None, "record has 5 columns; expected 4"),
        (",4,5,6", 1, "label is missing"),
    ],
)
def test_a_bad_row_late_in_a_large_csv_is_named_by_its_line(
    tmp_path, in_pieces, bad, column, message, compress
) -> None:
    lines = ["1,2,3,4"] * 40
    lines[33] = bad
    with pytest.raises(DataError, match=message) as caught:
        read_channel(_write(tmp_path, "big.csv", "\n".join(lines) + "\n", compress=compress))
    assert (caught.value.line, caught.value.column) == (34, column)


def test_missing_values_are_allowed_where_the_algorithm_handles_them(tmp_path) -> None:
    dataset = read_channel(_write(tmp_path, "a.csv", "1,2,3\n0,,5\n"), allow_missing=True)
    assert np.isnan(dataset.features[1, 0])


def test_every_file_must_have_the_same_width(tmp_path) -> None:
    folder = tmp_path / "train"
    write_csv(folder / "a.csv", np.ones((2, 3)), np.ones(2))
    write_csv(folder / "b.csv", np.ones((2, 4)), np.ones(2))
    with pytest.raises(DataError, match="expected 4") as caught:
        read_channel(channel(folder))
    assert caught.value.source == "train/b.csv" and caught.value.line == 1


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('{"features": [1, 2], "label": 1}\n{"features": [1], "label": 0}\n', 2, "1 features"),
        ('{"features": [1, 2], "label": 1}\n{"features": [1, "x"], "label": 0}\n', 2, "'x'"),
        ('{"features": [1, 2]}\n', 1, 'no "label"'),
        ('{"features": [1, 2], "label": 1}\nnot json\n', 2, "not valid JSON"),
    ],
)
def test_bad_jsonlines_name_file_and_line(tmp_path, text, line, message) -> None:
    folder = tmp_path / "train"
    folder.mkdir()
    (folder / "d.jsonl").write_text(text)
    with pytest.raises(DataError, match=message) as caught:
        read_channel(channel(folder, "application/jsonlines"))
    assert (caught.value.source, caught.value.line) == ("train/d.jsonl", line)


def test_bad_libsvm_names_line_and_token(tmp_path) -> None:
    folder = tmp_path / "train"
    folder.mkdir()
    (folder / "d.svm").write_text("1 0:1.5 2:3\n0 1:oops\n")
    with pytest.raises(DataError, match="'1:oops'") as caught:
        read_channel(channel(folder, "text/libsvm"), allow_sparse=True)
    assert (caught.value.line, caught.value.column) == (2, 2)


def test_an_empty_channel_is_an_error(tmp_path) -> None:
    (tmp_path / "train").mkdir()
    with pytest.raises(DataError, match="no files"):
        read_channel(channel(tmp_path / "train"))
    (tmp_path / "train" / "empty.csv").write_text("\n")
    with pytest.raises(DataError, match="no records"):
        read_channel(channel(tmp_path / "train"))


def test_libsvm_is_refused_where_the_algorithm_needs_dense_data(tmp_path) -> None:
    write_libsvm(tmp_path / "train" / "d.svm", np.ones((2, 2)), np.ones(2))
    with pytest.raises(DataError, match="text/libsvm is not supported"):
        read_channel(channel(tmp_path / "train", "text/libsvm"))


# Hostile input: each fails naming the file (and line), in memory far below the data's size.


def _peak_bytes_while(call) -> tuple[int, DataError]:
    """The most memory Python held while ``call`` ran (it is expected to raise DataError)."""
    tracemalloc.start()
    try:
        with pytest.raises(DataError) as caught:
            call()
        return tracemalloc.get_traced_memory()[1], caught.value
    finally:
        tracemalloc.stop()


def test_a_gzip_bomb_fails_past_the_memory_budget_without_landing_in_memory(
    tmp_path, monkeypatch
) -> None:
    monkeypatch.setattr(data, "memory_budget", lambda: 2 << 20)
    folder = tmp_path / "train"
    folder.mkdir()
    with gzip.open(folder / "bomb.csv.gz", "wb", compresslevel=1) as bomb:
        for _ in range(64):  # 64 MiB of "1,2\n" in about 200 KB
            bomb.write(b"1,2\n" * (1 << 18))
    peak, error = _peak_bytes_while(lambda: read_channel(channel(folder)))
    assert error.source == "train/bomb.csv.gz"
    assert "decompresses to more than 2.1 MB" in error.message
    assert "File-mode training reads a channel into memory and 2.1 MB are available" in str(error)
    assert peak < 8 << 20  # of 64 MiB
    assert [path.name for path in folder.iterdir()] == ["bomb.csv.gz"]  # no scratch left


def test_a_channel_larger_than_the_memory_budget_fails_before_parsing(
    tmp_path, monkeypatch
) -> None:
    monkeypatch.setattr(data, "memory_budget", lambda: 1000)
    write_csv(tmp_path / "train" / "a.csv", np.ones((200, 4)), np.ones(200))
    with pytest.raises(DataError) as caught:
        read_channel(channel(tmp_path / "train"))
    assert caught.value.source == "train"
    assert caught.value.message == (
        "channel holds 4.0 KB; File-mode training reads a channel into memory and 1.0 KB are "
        "available to it (50% of the memory free); train on less data, or where more memory is free"
    )


def test_the_memory_budget_is_a_share_of_the_free_memory() -> None:
    assert 0 < data.memory_budget() <= psutil.virtual_memory().available


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzipped"])
@pytest.mark.parametrize(
    ("name", "content_type", "head", "endless"),
    [
        ("long.csv", "text/csv", b"1,2,3\n0,4,5\n", b"1,"),
        ("long.jsonl", "application/jsonlines", b'{"features": [1], "label": 0}\n\n', b"[1,"),
    ],
)
def test_a_line_with_no_end_fails_naming_it_without_being_held(
    tmp_path, monkeypatch, compress, name, content_type, head, endless
) -> None:
    monkeypatch.setattr(data, "MAX_LINE_BYTES", 4096)
    folder = tmp_path / "train"
    folder.mkdir()
    text = head + endless * (16 << 20)  # 32 to 48 MiB without a newline
    (folder / name).write_bytes(gzip.compress(text, compresslevel=1) if compress else text)
    peak, error = _peak_bytes_while(lambda: read_channel(channel(folder, content_type)))
    assert (error.source, error.line) == (f"train/{name}", 3)
    assert error.message.startswith("line is longer than 4096 bytes, the most one record")
    assert peak < 8 << 20


@pytest.mark.parametrize(
    ("name", "content_type", "text", "line", "found"),
    [
        ("latin1.csv", "text/csv", b"1,2,3\n0,4,5\n1,caf\xe9,6\n", 3, "byte 0xe9 at byte 6"),
        (
            "utf16.csv",
            "text/csv",
            b"1,2,3\n0,4,5\n" + codecs.BOM_UTF16_LE + "1,2,3\n".encode("utf-16-le"),
            3,
            "a UTF-16 byte-order mark at byte 1",
        ),
        (
            "latin1.jsonl",
            "application/jsonlines",
            b'{"features": [1], "label": 0}\n{"features": [1], "label": "\xe9"}\n',
            2,
            "byte 0xe9 at byte 29",
        ),
    ],
)
def test_text_that_is_not_utf8_is_named_by_file_line_and_byte(
    tmp_path, name, content_type, text, line, found
) -> None:
    folder = tmp_path / "train"
    folder.mkdir()
    (folder / name).write_bytes(text)
    with pytest.raises(DataError) as caught:
        read_channel(channel(folder, content_type))
    assert (caught.value.source, caught.value.line) == (f"train/{name}", line)
    assert caught.value.message == f"not UTF-8 text: {found} of the line; save the data as UTF-8"
