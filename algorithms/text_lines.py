"""Lines of a data file (a path, or a body in memory) read safely: one at a time, UTF-8 or an
error naming the line and byte, and no line longer than a limit held whole."""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from algorithms.base import DataError


def open_data(data: bytes | Path) -> BinaryIO:
    """A binary stream over a file or a body in memory."""
    return open(data, "rb") if isinstance(data, Path) else io.BytesIO(data)


def data_lines(data: bytes | Path, *, source: str | None) -> Iterator[tuple[int, str]]:
    """Non-blank lines with their 1-based numbers, read a line at a time; CRLF endings are fine."""
    with open_data(data) as stream:
        for number, raw in enumerate(stream, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise DataError(_not_utf8(raw, error), source=source, line=number) from None
            line = line.rstrip("\n").rstrip("\r")
            if line.strip():
                yield number, line


def _not_utf8(raw: bytes, error: UnicodeDecodeError) -> str:
    found = raw[error.start : error.start + 2]
    what = (
        "a UTF-16 byte-order mark"
        if found in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
        else f"byte 0x{raw[error.start]:02x}"
    )
    return f"not UTF-8 text: {what} at byte {error.start + 1} of the line; save the data as UTF-8"


def check_line_length(data: bytes | Path, *, source: str | None, limit: int) -> None:
    """Refuse a line longer than ``limit`` bytes, naming it, without reading it whole.

    A line that long covers a whole aligned window of ``limit // 2`` bytes, so only each window
    is probed for a newline (its first few bytes, in ordinary data); a window without one has
    its line measured, from at most ``limit`` bytes either side. Memory stays about ``limit``
    whatever the data, where pandas' parser and a line iterator would hold the whole line.
    """
    window = max(1, limit // 2)
    with open_data(data) as stream:
        size = stream.seek(0, io.SEEK_END)
        index = 0
        while (index + 1) * window <= size:
            start = index * window
            if _holds_newline(stream, start, window):
                index += 1
                continue
            begin = max(0, start - limit)
            stream.seek(begin)
            around = stream.read(start - begin + limit + 1)
            line_start = begin + around.rfind(b"\n", 0, start - begin) + 1
            line_end = around.find(b"\n", start - begin)
            line_end = begin + (len(around) if line_end < 0 else line_end)
            if line_end - line_start > limit:
                raise DataError(
                    f"line is longer than {limit} bytes, the most one record may take; the data "
                    "may not be one record a line, or wants a sparse format (text/libsvm, "
                    "application/x-recordio-protobuf)",
                    source=source,
                    line=_newlines_before(stream, line_start) + 1,
                )
            index = max(index + 1, line_end // window)


def _holds_newline(stream: BinaryIO, start: int, length: int) -> bool:
    stream.seek(start)
    piece = 4096  # growing: ordinary lines end within the first read
    while length > 0:
        chunk = stream.read(min(piece, length))
        if not chunk:
            return False
        if b"\n" in chunk:
            return True
        length -= len(chunk)
        piece = min(piece * 4, 1 << 20)
    return False


def _newlines_before(stream: BinaryIO, end: int) -> int:
    stream.seek(0)
    count = 0
    while stream.tell() < end:
        count += stream.read(min(1 << 20, end - stream.tell())).count(b"\n")
    return count
