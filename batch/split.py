"""Stream the records of one byte range and pack them into request bodies, in bounded memory.

Records are lines (SplitType=Line). A line ends at ``\\n``; a ``\\r`` before it is dropped, so CRLF
files give the same records as LF files; the last line needs no newline. **Blank lines are not
records**: they get no output line, but they still count when numbering lines, so a line number
is what an editor shows. Line numbers here are 1-based *within the range*; the engine adds the
physical lines of the preceding ranges (each range counts its own as it streams) to report a
line within the object.

Two paths: :func:`iter_records` + :func:`pack_batches` look at every record (SingleRecord,
DataProcessing); :func:`iter_bodies` cuts MultiRecord bodies straight from the bytes when records
pass through untouched, which is most jobs and several times cheaper per line.

SplitType=RecordIO: :func:`iter_recordio_batches` reads MXNet RecordIO records (the framing that
``application/x-recordio-protobuf`` uses, read by :mod:`algorithms.recordio`) a piece at a time
and packs them, framed, into bodies as the Line split does. Records are numbered from 1 within
the object, and an error names its record.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from algorithms.recordio import PayloadTooLarge, frame, iter_payloads

READ_CHUNK_BYTES = 1024 * 1024
# A RecordIO record's magic and length word, before its payload.
_HEADER_BYTES = 8


class RecordTooLarge(ValueError):
    """A record (or an unsplittable object) is larger than MaxPayloadInMB."""

    def __init__(self, *, line: int, size: int, limit: int) -> None:
        super().__init__(f"record is larger than MaxPayloadInMB ({limit} bytes)")
        self.line = line
        self.size = size
        self.limit = limit


@dataclass
class Batch:
    """One request body's worth of records, with the line number of each (within the range)."""

    records: list[bytes]
    lines: list[int]

    def body(self) -> bytes:
        return b"\n".join(self.records) + b"\n"


@dataclass
class LineCounter:
    """How many physical lines a stream held, known once it is exhausted."""

    lines: int = 0


def iter_records(
    reader: BinaryIO,
    *,
    counter: LineCounter | None = None,
    chunk_size: int = READ_CHUNK_BYTES,
    max_payload_bytes: int | None = None,
) -> Iterator[tuple[int, bytes]]:
    """Yield ``(line number, record)`` for every non-blank line, without its line ending.

    A line that cannot fit in a body of ``max_payload_bytes`` raises :class:`RecordTooLarge` as
    soon as its unfinished part passes that, so a line with no end is never held (nor copied
    again per chunk) whole.
    """
    counter = counter if counter is not None else LineCounter()
    line_number = 0
    pending = b""
    while chunk := reader.read(chunk_size):
        lines = (pending + chunk).split(b"\n")
        pending = lines.pop()  # the tail has no newline yet; it joins the next chunk
        if max_payload_bytes is not None and len(pending) > max_payload_bytes:
            # Even less a trailing \r, the record and its newline pass the limit.
            raise RecordTooLarge(
                line=line_number + len(lines) + 1,
                size=len(pending) + 1,
                limit=max_payload_bytes,
            )
        for line in lines:
            line_number += 1
            record = line[:-1] if line.endswith(b"\r") else line
            if record and not record.isspace():
                yield line_number, record
        counter.lines = line_number
    if pending:
        line_number += 1
        record = pending[:-1] if pending.endswith(b"\r") else pending
        if record and not record.isspace():
            yield line_number, record
    counter.lines = line_number


def pack_batches(
    records: Iterable[tuple[int, bytes]],
    *,
    max_payload_bytes: int,
    single_record: bool,
) -> Iterator[Batch]:
    """Group records per BatchStrategy: one per batch, or as many as fit in MaxPayloadInMB.

    A body's size counts one ``\\n`` per record, since that is what is sent.
    """
    batch = Batch([], [])
    size = 0
    for line, record in records:
        record_size = len(record) + 1
        if record_size > max_payload_bytes:
            raise RecordTooLarge(line=line, size=record_size, limit=max_payload_bytes)
        if batch.records and (single_record or size + record_size > max_payload_bytes):
            yield batch
            batch = Batch([], [])
            size = 0
        batch.records.append(record)
        batch.lines.append(line)
        size += record_size
    if batch.records:
        yield batch


@dataclass
class Body:
    """A run of whole lines sent as one request, blank lines included (the model skips them)."""

    first_line: int
    data: bytes


def iter_bodies(
    reader: BinaryIO, *, max_payload_bytes: int, counter: LineCounter | None = None
) -> Iterator[Body]:
    """MultiRecord bodies cut at the last line end that fits, without touching lines one by one.

    The fast path when records pass through untouched: the cost is a few C-level scans of each
    byte (``rfind``, ``count``), not a Python step per line. CRLF becomes LF and a missing final
    newline is added, so bodies are exactly what :func:`iter_records` + :func:`pack_batches`
    would send, except that blank lines stay in (the model does not count them as records) and
    keep the line numbers of the model's errors equal to the object's.
    """
    counter = counter if counter is not None else LineCounter()
    line = 1
    pending = b""
    while True:
        chunk = reader.read(max_payload_bytes - len(pending))
        data = pending + chunk
        if not chunk:  # end of the range: what is left is its last line
            if data:
                counter.lines = line - 1 + data.count(b"\n") + (not data.endswith(b"\n"))
                yield Body(line, _normalized(data if data.endswith(b"\n") else data + b"\n"))
            else:
                counter.lines = line - 1
            return
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            if len(data) >= max_payload_bytes:
                raise RecordTooLarge(line=line, size=len(data), limit=max_payload_bytes)
            pending = data
            continue
        body, pending = data[:cut], data[cut:]
        yield Body(line, _normalized(body))
        line += body.count(b"\n")
        counter.lines = line - 1


def _normalized(body: bytes) -> bytes:
    return body.replace(b"\r\n", b"\n") if b"\r" in body else body


def read_whole(reader: BinaryIO, *, max_payload_bytes: int) -> bytes:
    """Read an unsplit object (SplitType=None) as one body, refusing one over the payload limit.

    Reads at most one byte past the limit, so a huge object is refused without being loaded.
    """
    body = reader.read(max_payload_bytes + 1)
    if len(body) > max_payload_bytes:
        raise RecordTooLarge(line=1, size=len(body), limit=max_payload_bytes)
    return body


def _sized(payloads: Iterator[bytes]) -> Iterator[bytes]:
    """``payloads``, a record over the limit raised as :class:`RecordTooLarge`."""
    try:
        yield from payloads
    except PayloadTooLarge as exc:
        raise RecordTooLarge(line=exc.record, size=exc.size, limit=exc.limit) from None


@dataclass
class RecordIOBatch:
    """One request body of whole RecordIO records: ``count`` records from number ``first``."""

    first: int
    count: int
    data: bytes


def iter_recordio_batches(
    reader: BinaryIO,
    *,
    max_payload_bytes: int,
    single_record: bool,
    source: str | None = None,
) -> Iterator[RecordIOBatch]:
    """RecordIO records packed per BatchStrategy, each body at most ``max_payload_bytes``.

    MultiRecord bodies keep every record's framing and padding, so a body is a valid RecordIO
    stream; SingleRecord strips the padding (as SageMaker does for binary formats). A record
    written in several parts (MXNet's continuation flags) is sent as one. Raises
    :class:`RecordTooLarge` (``line`` is the record's number) for a record over the limit, and
    ``algorithms.base.DataError`` for a broken framing.
    """
    parts: list[bytes] = []
    first, size = 1, 0
    payloads = iter_payloads(reader, source=source, limit=max_payload_bytes)
    for number, payload in enumerate(_sized(payloads), start=1):
        record = frame(payload)
        if single_record:
            record = record[: _HEADER_BYTES + len(payload)]
        if len(record) > max_payload_bytes:
            raise RecordTooLarge(line=number, size=len(record), limit=max_payload_bytes)
        if parts and (single_record or size + len(record) > max_payload_bytes):
            yield RecordIOBatch(first, len(parts), b"".join(parts))
            parts, first, size = [], number, 0
        parts.append(record)
        size += len(record)
    if parts:
        yield RecordIOBatch(first, len(parts), b"".join(parts))
