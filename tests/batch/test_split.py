"""Streaming records out of a range and packing them into request bodies: lines, and RecordIO
records (SplitType=RecordIO)."""

import gzip
import io
import struct
import tracemalloc

import numpy as np
import pytest
from sagemaker.amazon.common import read_records, write_numpy_to_dense_tensor

from algorithms import DataError
from batch.split import (
    LineCounter,
    RecordTooLarge,
    iter_bodies,
    iter_recordio_batches,
    iter_records,
    pack_batches,
    read_whole,
)


def records(data: bytes, chunk_size: int = 4) -> tuple[list[tuple[int, bytes]], int]:
    counter = LineCounter()
    found = list(iter_records(io.BytesIO(data), counter=counter, chunk_size=chunk_size))
    return found, counter.lines


def test_lf_and_crlf_give_the_same_records_whatever_the_chunking():
    lf = b"1,2\n3,4\n5,6\n"
    crlf = b"1,2\r\n3,4\r\n5,6\r\n"
    for chunk_size in (1, 2, 3, 7, 1 << 20):
        assert records(lf, chunk_size) == records(crlf, chunk_size)
    assert records(lf) == ([(1, b"1,2"), (2, b"3,4"), (3, b"5,6")], 3)


def test_last_line_without_newline_is_a_record():
    assert records(b"1,2\n3,4") == ([(1, b"1,2"), (2, b"3,4")], 2)
    assert records(b"1,2\r\n3,4\r") == ([(1, b"1,2"), (2, b"3,4")], 2)


def test_blank_lines_are_skipped_but_still_numbered():
    found, lines = records(b"a\n\n   \nb\r\n\r\nc\n")
    assert found == [(1, b"a"), (4, b"b"), (6, b"c")]
    assert lines == 6


def test_utf8_survives_chunks_that_cut_a_character():
    text = "é,ü,漢\n".encode() * 3
    found, _ = records(text, chunk_size=1)
    assert [record.decode() for _, record in found] == ["é,ü,漢"] * 3


def test_empty_input_has_no_records_and_no_lines():
    assert records(b"") == ([], 0)


def test_multi_record_packs_as_many_records_as_fit_the_payload():
    recs = [(n, b"x" * 9) for n in range(1, 8)]  # each costs 10 bytes with its newline
    batches = list(pack_batches(recs, max_payload_bytes=30, single_record=False))
    assert [b.lines for b in batches] == [[1, 2, 3], [4, 5, 6], [7]]
    assert all(len(b.body()) <= 30 for b in batches)
    assert batches[0].body() == b"xxxxxxxxx\n" * 3


def test_single_record_sends_one_record_per_batch():
    recs = [(1, b"a"), (3, b"b")]
    batches = list(pack_batches(recs, max_payload_bytes=1 << 20, single_record=True))
    assert [(b.records, b.lines) for b in batches] == [([b"a"], [1]), ([b"b"], [3])]


def test_a_record_larger_than_the_payload_is_an_error_naming_its_line():
    recs = [(1, b"ok"), (2, b"ok"), (5, b"y" * 40)]
    with pytest.raises(RecordTooLarge) as error:
        list(pack_batches(recs, max_payload_bytes=40, single_record=False))
    assert error.value.line == 5
    assert "MaxPayloadInMB" in str(error.value)


def test_a_record_exactly_at_the_limit_fits():
    batches = list(pack_batches([(1, b"y" * 39)], max_payload_bytes=40, single_record=False))
    assert len(batches[0].body()) == 40


class _Endless(io.RawIOBase):
    """``1,2\n`` and then one line that never ends, as a corrupt or hostile object may hold."""

    def __init__(self) -> None:
        self.served = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        head = b"1,2\n" if self.served == 0 else b""
        view = memoryview(buffer)
        view[: len(head)] = head
        view[len(head) :] = b"7" * (len(view) - len(head))
        self.served += len(view)
        return len(view)


def test_a_line_with_no_end_is_refused_once_it_passes_the_payload_not_read_whole():
    reader = _Endless()
    records = iter_records(reader, chunk_size=1 << 10, max_payload_bytes=1 << 16)
    with pytest.raises(RecordTooLarge) as error:
        list(pack_batches(records, max_payload_bytes=1 << 16, single_record=True))
    assert error.value.line == 2
    assert reader.served <= (1 << 16) + (1 << 10)


def test_a_gzip_bomb_is_refused_at_the_payload_on_both_paths():
    bomb = gzip.compress(b"1,2\n" + b"0" * (64 << 20), compresslevel=1)  # 64 MiB in 64 KB
    tracemalloc.start()
    try:
        with pytest.raises(RecordTooLarge) as by_records:
            reader = gzip.GzipFile(fileobj=io.BytesIO(bomb))
            list(iter_records(reader, max_payload_bytes=1 << 20))
        with pytest.raises(RecordTooLarge) as by_bodies:
            list(iter_bodies(gzip.GzipFile(fileobj=io.BytesIO(bomb)), max_payload_bytes=1 << 20))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert by_records.value.line == by_bodies.value.line == 2
    assert peak < 8 << 20


def test_an_unsplit_object_over_the_payload_is_refused_without_reading_it_all():
    reader = io.BytesIO(b"z" * 1000)
    with pytest.raises(RecordTooLarge):
        read_whole(reader, max_payload_bytes=100)
    assert reader.tell() == 101
    assert read_whole(io.BytesIO(b"abc"), max_payload_bytes=3) == b"abc"


def bodies(data: bytes, limit: int) -> tuple[list[tuple[int, bytes]], int]:
    counter = LineCounter()
    found = iter_bodies(io.BytesIO(data), max_payload_bytes=limit, counter=counter)
    return [(body.first_line, body.data) for body in found], counter.lines


def test_fast_bodies_cut_on_line_ends_and_number_their_first_line():
    data = b"aa\nbb\r\n\ncc\ndd"
    assert bodies(data, 8) == ([(1, b"aa\nbb\n\n"), (4, b"cc\n"), (5, b"dd\n")], 5)
    assert bodies(data, 100) == ([(1, b"aa\nbb\n\ncc\n"), (5, b"dd\n")], 5)
    assert bodies(b"", 8) == ([], 0)
    assert bodies(b"aa\n", 8) == ([(1, b"aa\n")], 1)


def test_fast_bodies_send_the_same_records_as_the_line_by_line_path():
    data = b"".join(b"%d,%d%s" % (n, n * n, b"\r\n" if n % 3 else b"\n\n") for n in range(500))
    for limit in (20, 64, 1000):
        fast = b"".join(body for _, body in bodies(data, limit)[0])
        slow = b"".join(
            batch.body()
            for batch in pack_batches(
                iter_records(io.BytesIO(data)), max_payload_bytes=limit, single_record=False
            )
        )
        assert [line for line in fast.split(b"\n") if line] == slow.split(b"\n")[:-1]
        assert all(len(body) <= limit for _, body in bodies(data, limit)[0])
        assert bodies(data, limit)[1] == records(data)[1]


def test_fast_bodies_refuse_a_line_over_the_payload_naming_it():
    with pytest.raises(RecordTooLarge) as error:
        list(iter_bodies(io.BytesIO(b"ok\nok\n" + b"x" * 30 + b"\n"), max_payload_bytes=10))
    assert error.value.line == 3


def _record_set(rows: int, columns: int = 3) -> bytes:
    """What the SDK's ``record_set`` uploads: dense float32 Records, RecordIO-framed."""
    buffer = io.BytesIO()
    values = np.arange(rows * columns, dtype=np.float32).reshape(rows, columns)
    write_numpy_to_dense_tensor(buffer, values, labels=np.arange(rows, dtype=np.float32))
    return buffer.getvalue()


def _labels(body: bytes) -> list[float]:
    return [r.label["values"].float32_tensor.values[0] for r in read_records(io.BytesIO(body))]


def test_recordio_multi_record_bodies_are_whole_records_under_the_payload_in_order():
    data = _record_set(50)
    record_size = len(data) // 50
    batches = list(
        iter_recordio_batches(
            io.BytesIO(data), max_payload_bytes=7 * record_size + 3, single_record=False
        )
    )
    assert [(b.first, b.count) for b in batches] == [(1 + 7 * n, 7) for n in range(7)] + [(50, 1)]
    assert all(len(b.data) <= 7 * record_size + 3 for b in batches)
    # Framing and padding kept: the bodies put together are the object, and the SDK reads each.
    assert b"".join(b.data for b in batches) == data
    assert [label for b in batches for label in _labels(b.data)] == list(range(50))


def test_recordio_single_record_sends_one_unpadded_record_per_body():
    data = _record_set(4, columns=1)  # payloads whose length is not a multiple of 4
    batches = list(
        iter_recordio_batches(io.BytesIO(data), max_payload_bytes=1 << 20, single_record=True)
    )
    assert [(b.first, b.count) for b in batches] == [(1, 1), (2, 1), (3, 1), (4, 1)]
    for number, batch in enumerate(batches):
        length = int.from_bytes(batch.data[4:8], "little")
        assert len(batch.data) == 8 + length  # no padding
        assert _labels(batch.data) == [number]


def test_recordio_record_over_the_payload_is_an_error_naming_its_number():
    data = _record_set(3) + _record_set(1, columns=100)
    with pytest.raises(RecordTooLarge) as error:
        list(iter_recordio_batches(io.BytesIO(data), max_payload_bytes=200, single_record=False))
    assert error.value.line == 4


class _Zeros(io.RawIOBase):
    """An endless stream of zero bytes that counts what was read from it."""

    def __init__(self) -> None:
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        buffer[:] = bytes(len(buffer))
        self.read_bytes += len(buffer)
        return len(buffer)


@pytest.mark.parametrize(
    "frames",
    [
        [(0, 400 << 20)],  # one record saying 400 MiB follow
        [(1, 4 << 20), (2, 4 << 20)],  # a multi-part record whose parts pass 6 MiB together
    ],
)
def test_a_recordio_record_over_the_payload_is_refused_before_it_is_read(frames):
    """Refused as soon as a header says the record passes the limit, naming it, with next to
    nothing more read. (RecordIO's length field allows 512 MiB.)"""
    data = _record_set(2)
    for index, (flag, length) in enumerate(frames):
        data += struct.pack("<II", 0xCED7230A, (flag << 29) | length)
        if index < len(frames) - 1:
            data += bytes(length)
    stream = _Zeros()
    body = io.BufferedReader(_Chain(data, stream))

    with pytest.raises(RecordTooLarge) as error:
        list(iter_recordio_batches(body, max_payload_bytes=6 << 20, single_record=False))

    assert error.value.line == 3
    assert stream.read_bytes <= 2 << 20  # the reader's buffer, not the record


class _Chain(io.RawIOBase):
    """``first``'s bytes, then ``rest``'s."""

    def __init__(self, first: bytes, rest: io.RawIOBase) -> None:
        self.first, self.rest = io.BytesIO(first), rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self.first.readinto(buffer)
        return count if count else self.rest.readinto(buffer)


def test_recordio_broken_framing_names_the_record():
    data = _record_set(2) + b"not a record"
    with pytest.raises(DataError, match="record 3 does not start with RecordIO's magic"):
        list(
            iter_recordio_batches(io.BytesIO(data), max_payload_bytes=1 << 20, single_record=False)
        )


def test_recordio_bodies_come_while_the_object_is_still_being_read():
    data = _record_set(30_000, columns=20)  # about 3 MB
    reader = io.BytesIO(data)
    batches = iter_recordio_batches(reader, max_payload_bytes=100_000, single_record=False)
    first = next(batches)
    assert first.first == 1 and reader.tell() < len(data) // 2
    assert sum(b.count for b in batches) == 30_000 - first.count
