"""Reading an S3 request's body as it streams, checked against what the signature covers.

``body_reader`` gives a reader whose ``read(n)`` returns the object's bytes. A body whose hash is
not the declared ``x-amz-content-sha256``, or an aws-chunked body with a chunk whose signature
does not verify, raises S3Error from ``read`` before its end is reported, so a writer around it
discards what it wrote.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import deque

from django.http import HttpRequest

from console.s3.auth import (
    STREAMING_SIGNED,
    STREAMING_UNSIGNED_TRAILER,
    UNSIGNED,
    Caller,
    ChunkSigning,
)
from console.s3.errors import S3Error

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
MAX_CHUNK_HEADER = 4096
MAX_CHUNK_SIZE = 64 * 1024 * 1024


def content_length(request: HttpRequest) -> int:
    """The object's size: ``x-amz-decoded-content-length`` for an aws-chunked body."""
    raw = request.headers.get("x-amz-decoded-content-length") or request.headers.get(
        "Content-Length"
    )
    if raw is None:
        raise S3Error(
            "MissingContentLength", "You must provide the Content-Length HTTP header.", status=411
        )
    try:
        length = int(raw)
    except ValueError:
        raise S3Error("InvalidArgument", f"Content-Length {raw!r} is not a number.") from None
    if length < 0:
        raise S3Error("InvalidArgument", "Content-Length must not be negative.")
    return length


def body_reader(request: HttpRequest, caller: Caller):
    if caller.payload == UNSIGNED:
        return request
    if caller.payload == STREAMING_SIGNED:
        return ChunkedReader(request, caller.chunk_signing)
    if caller.payload == STREAMING_UNSIGNED_TRAILER:
        return ChunkedReader(request, None)
    return HashCheckingReader(request, caller.payload)


def read_small_body(request: HttpRequest, caller: Caller, *, limit: int = 1024 * 1024) -> bytes:
    """The whole body of a request that carries an XML document, at most ``limit`` bytes."""
    reader = body_reader(request, caller)
    data = reader.read(limit + 1)
    if len(data) > limit or reader.read(1):  # the read at the end checks the hash
        raise S3Error("MaxMessageLengthExceeded", "Your request was too big.")
    return data


class HashCheckingReader:
    def __init__(self, source, expected_sha256: str) -> None:
        if len(expected_sha256) != 64:
            raise S3Error(
                "InvalidArgument",
                "x-amz-content-sha256 must be the body's SHA-256 in hex, UNSIGNED-PAYLOAD or "
                f"{STREAMING_SIGNED}.",
            )
        self._source = source
        self._expected = expected_sha256.lower()
        self._hash = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size)
        if data:
            self._hash.update(data)
            return data
        if self._hash.hexdigest() != self._expected:
            raise S3Error(
                "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            )
        return b""


def take_bytes(pieces: deque[bytes], size: int) -> bytes:
    """The first ``size`` bytes of ``pieces`` (which hold at least that many), taken off it;
    pieces are joined only when the bytes span several, and a whole first piece is not copied."""
    if size <= 0:
        return b""
    first = pieces[0]
    if len(first) >= size:
        if len(first) == size:
            return pieces.popleft()
        pieces[0] = first[size:]
        return first[:size]
    parts = []
    while size:
        part = pieces.popleft()
        if len(part) > size:
            pieces.appendleft(part[size:])
            part = part[:size]
        parts.append(part)
        size -= len(part)
    return b"".join(parts)


class ChunkedReader:
    """The payload of an ``aws-chunked`` body: ``<hex size>[;chunk-signature=<sig>]\\r\\n<data>
    \\r\\n`` ... a last chunk of size 0, then optional trailers."""

    def __init__(self, source, signing: ChunkSigning | None) -> None:
        self._source = source
        self._signing = signing
        self._previous = signing.seed_signature if signing else ""
        # Verified chunks' data not yet read, kept as received: a read joins only what it takes.
        self._pending: deque[bytes] = deque()
        self._buffered = 0
        self._done = False

    def read(self, size: int = -1) -> bytes:
        while not self._done and (size < 0 or self._buffered < size):
            self._next_chunk()
        size = self._buffered if size < 0 else min(size, self._buffered)
        self._buffered -= size
        return take_bytes(self._pending, size)

    def _next_chunk(self) -> None:
        header = self._source.readline(MAX_CHUNK_HEADER)
        if not header.endswith(b"\r\n"):
            raise _malformed("a chunk header does not end in CRLF")
        size_text, _, extension = header[:-2].decode("latin-1").partition(";")
        try:
            size = int(size_text, 16)
        except ValueError:
            raise _malformed(f"chunk size {size_text!r} is not hexadecimal") from None
        if size > MAX_CHUNK_SIZE:
            raise _malformed(f"a chunk is larger than {MAX_CHUNK_SIZE} bytes")
        data = self._read_exactly(size)
        self._check_signature(extension, data)
        if size == 0:
            self._done = True
            while self._source.readline(MAX_CHUNK_HEADER) not in (b"\r\n", b""):
                pass  # trailers (checksums the transfer already covers)
            return
        if self._read_exactly(2) != b"\r\n":
            raise _malformed("a chunk's data does not end in CRLF")
        self._pending.append(data)
        self._buffered += len(data)

    def _read_exactly(self, size: int) -> bytes:
        parts, wanted = [], size
        while wanted:
            part = self._source.read(wanted)
            if not part:
                raise S3Error("IncompleteBody", "The request body ended inside a chunk.")
            parts.append(part)
            wanted -= len(part)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _check_signature(self, extension: str, data: bytes) -> None:
        if self._signing is None:
            return
        name, _, signature = extension.partition("=")
        if name != "chunk-signature":
            raise _malformed("a chunk carries no chunk-signature")
        string_to_sign = "\n".join(
            [
                "AWS4-HMAC-SHA256-PAYLOAD",
                self._signing.amz_date,
                self._signing.scope,
                self._previous,
                EMPTY_SHA256,
                hashlib.sha256(data).hexdigest(),
            ]
        )
        expected = hmac.new(self._signing.key, string_to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            raise S3Error(
                "SignatureDoesNotMatch",
                "The chunk signature we calculated does not match the signature you provided.",
                status=403,
            )
        self._previous = signature


def _malformed(why: str) -> S3Error:
    return S3Error("InvalidRequest", f"The aws-chunked body is malformed: {why}.")
