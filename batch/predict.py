"""The per-range task: stream a range's records through the model into a temporary part object.

It runs on a Dask worker. The model (one container, or a serial inference pipeline of several) is
loaded once per worker process and reused. Memory is
bounded by one read chunk, one request body and its response, whatever the object's size. The part
key is deterministic and ``open_write`` is atomic, so a rerun (a lost worker, a retry) replaces the
part rather than adding to it. Bad data is returned as a :class:`RangeFailure`, not raised, so Dask
does not retry what would fail the same way again; unexpected errors are raised and retried.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from distributed import Event, get_worker

from algorithms.base import AlgorithmError, DataError, Model
from algorithms.codecs import LINE_TYPES
from algorithms.loading import load_containers
from batch.invoke import InvocationFailed, invoke
from batch.plan import ByteRange
from batch.processing import RecordError, RecordProcessor
from batch.spec import TransformSpec
from batch.split import (
    LineCounter,
    RecordTooLarge,
    iter_bodies,
    iter_recordio_batches,
    iter_records,
    pack_batches,
    read_whole,
)
from infra.storage.base import ObjectStore, until_available

# How long a range (and the engine's publishing and clean-up) waits for a storage server that
# does not answer, beyond the S3 client's own retries, before the job fails.
STORAGE_WAIT_SECONDS = 60.0


@dataclass(frozen=True)
class RangeTask:
    spec: TransformSpec
    store: ObjectStore
    # The model's containers (``{"Image", "ModelDataUrl", ...}``); several are a serial pipeline.
    containers: tuple[Mapping[str, Any], ...]
    object_index: int
    object_uri: str
    range: ByteRange
    part_uri: str
    # Name of a ``distributed.Event`` the engine sets to stop the job (None outside Dask).
    stop_event: str | None = None


@dataclass(frozen=True)
class RangeFailure:
    """Why a range failed: ``line`` is 1-based within the range (None when no line is to blame)."""

    line: int | None
    message: str


@dataclass(frozen=True)
class RangeResult:
    object_index: int
    range_index: int
    lines: int  # physical lines in the range, blank ones included: numbers the next range's lines
    records: int
    bytes_in: int
    bytes_out: int
    failure: RangeFailure | None = None


def run_range(task: RangeTask) -> RangeResult:
    """Transform one range into its part object; on bad data, write nothing and say where.

    While the storage server does not answer (restarting, say), the range is run again from its
    start for up to ``STORAGE_WAIT_SECONDS``: its part's key is its own, so a rerun overwrites
    what an interrupted one may have left."""
    return until_available(lambda: _run_range_once(task), within=STORAGE_WAIT_SECONDS)


def _run_range_once(task: RangeTask) -> RangeResult:
    counter = LineCounter()
    stats = {"records": 0, "bytes_out": 0}
    try:
        _StopCheck(task.stop_event)()
        model = load_model_cached(task.containers, task.store)
        with ExitStack() as stack:
            reader = stack.enter_context(_open_range(task))
            writer = stack.enter_context(task.store.open_write(task.part_uri))
            if task.spec.split_type == "Line":
                _transform_lines(task, model, reader, writer, counter, stats)
            elif task.spec.split_type == "RecordIO":
                _transform_recordio(task, model, reader, writer, stats)
            else:
                _transform_whole(task, model, reader, writer, stats)
    except _BadData as bad:
        return _result(task, counter, stats, failure=RangeFailure(bad.line, bad.message))
    except _Stopped:
        return _result(task, counter, stats, failure=RangeFailure(None, "the job was stopped"))
    return _result(task, counter, stats)


class _Stopped(Exception):
    """The job is stopping: abandon the range (its part is never written)."""


class _StopCheck:
    """Asks the scheduler whether the job is stopping, at most every ``interval`` seconds."""

    def __init__(self, event_name: str | None, *, interval: float = 0.5) -> None:
        self._event = None
        if event_name is not None:
            self._event = Event(event_name)
        self._interval = interval
        self._next = 0.0

    def __call__(self) -> None:
        if self._event is None or time.monotonic() < self._next:
            return
        self._next = time.monotonic() + self._interval
        if self._event.is_set():
            raise _Stopped


class _BadData(Exception):
    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _transform_lines(
    task: RangeTask,
    model: Model,
    reader: BinaryIO,
    writer: BinaryIO,
    counter: LineCounter,
    stats: dict[str, int],
) -> None:
    spec = task.spec
    processor = RecordProcessor(spec)
    check_stop = _StopCheck(task.stop_event)
    if processor.passthrough and spec.batch_strategy == "MultiRecord":
        _transform_bodies(task, model, reader, writer, counter, stats, check_stop)
        return
    batches = pack_batches(
        iter_records(reader, counter=counter, max_payload_bytes=spec.max_payload_bytes),
        max_payload_bytes=spec.max_payload_bytes,
        single_record=spec.batch_strategy == "SingleRecord",
    )
    try:
        for batch in batches:
            check_stop()
            try:
                body = processor.request_body(batch.records)
                response = _invoke(task, model, body)
                if processor.passthrough:
                    output = _assembled(spec, response)
                else:
                    output = b"".join(
                        line + b"\n" for line in processor.outputs(batch.records, response)
                    )
            except RecordError as error:
                raise _BadData(batch.lines[error.index], error.message) from None
            except DataError as error:
                line = batch.lines[error.line - 1] if error.line else batch.lines[0]
                raise _BadData(line, error.message) from None
            except (AlgorithmError, InvocationFailed) as error:
                raise _BadData(batch.lines[0], str(error)) from None
            writer.write(output)
            stats["records"] += len(batch.records)
            stats["bytes_out"] += len(output)
    except RecordTooLarge as error:
        raise _BadData(error.line, str(error)) from None
    except UnicodeDecodeError as error:
        raise _BadData(None, f"cannot decompress or decode the object: {error}") from None


def _transform_bodies(
    task: RangeTask,
    model: Model,
    reader: BinaryIO,
    writer: BinaryIO,
    counter: LineCounter,
    stats: dict[str, int],
    check_stop: Callable[[], None],
) -> None:
    """The fast path: whole-line bodies straight from the bytes, outputs straight to the part."""
    spec = task.spec
    line_output = spec.response_type.split(";")[0].strip() in LINE_TYPES
    try:
        for body in iter_bodies(reader, max_payload_bytes=spec.max_payload_bytes, counter=counter):
            check_stop()
            try:
                response = _invoke(task, model, body.data)
            except DataError as error:
                raise _BadData(body.first_line + (error.line or 1) - 1, error.message) from None
            except (AlgorithmError, InvocationFailed) as error:
                raise _BadData(body.first_line, str(error)) from None
            output = _assembled(spec, response)
            writer.write(output)
            # Line types answer one line per record; otherwise count the lines sent.
            stats["records"] += (response if line_output else body.data).count(b"\n")
            stats["bytes_out"] += len(output)
    except RecordTooLarge as error:
        raise _BadData(error.line, str(error)) from None


def _transform_recordio(
    task: RangeTask, model: Model, reader: BinaryIO, writer: BinaryIO, stats: dict[str, int]
) -> None:
    """SplitType=RecordIO: bodies of whole records; a failure names the record (not a line)."""
    check_stop = _StopCheck(task.stop_event)
    batches = iter_recordio_batches(
        reader,
        max_payload_bytes=task.spec.max_payload_bytes,
        single_record=task.spec.batch_strategy == "SingleRecord",
    )
    try:
        for batch in batches:
            check_stop()
            try:
                response = _invoke(task, model, batch.data)
            except (AlgorithmError, InvocationFailed) as error:
                raise _BadData(None, f"record {batch.first}: {error}") from None
            output = _assembled(task.spec, response)
            writer.write(output)
            stats["records"] += batch.count
            stats["bytes_out"] += len(output)
    except RecordTooLarge as error:
        raise _BadData(None, f"record {error.line}: {error}") from None
    except DataError as error:  # the framing itself is broken
        raise _BadData(None, error.message) from None


def _transform_whole(
    task: RangeTask, model: Model, reader: BinaryIO, writer: BinaryIO, stats: dict[str, int]
) -> None:
    try:
        body = read_whole(reader, max_payload_bytes=task.spec.max_payload_bytes)
        response = _invoke(task, model, body)
    except RecordTooLarge as error:
        raise _BadData(
            None,
            f"the unsplit object is larger than MaxPayloadInMB "
            f"({error.limit} bytes); use SplitType Line",
        ) from None
    except DataError as error:
        raise _BadData(error.line, error.message) from None
    except (AlgorithmError, InvocationFailed, OSError) as error:
        raise _BadData(None, str(error)) from None
    output = _assembled(task.spec, response)
    writer.write(output)
    stats["records"] += 1
    stats["bytes_out"] += len(output)


def _assembled(spec: TransformSpec, response: bytes) -> bytes:
    """AssembleWith=Line ends each record's output with one newline; None keeps bytes as-is.

    Line-type responses already end every record's line with ``\\n``, so Line adds none there;
    a response that is not line-terminated (one JSON document) gets its newline after it.
    """
    if spec.assemble_with == "Line" and response and not response.endswith(b"\n"):
        return response + b"\n"
    return response


def _invoke(task: RangeTask, model: Model, body: bytes) -> bytes:
    spec = task.spec
    return invoke(
        model,
        body,
        content_type=spec.content_type,
        accept=spec.response_type,
        timeout_s=spec.invocations_timeout_s,
        max_retries=spec.invocations_max_retries,
    )


def _open_range(task: RangeTask) -> BinaryIO:
    reader = task.store.open_read(task.object_uri, start=task.range.start, end=task.range.end)
    if task.spec.compression == "Gzip":
        # A gzip object is one range; decompress as we stream. GzipFile does not close the
        # reader it wraps, so hand both to the caller's context.
        return _ClosingGzip(reader)
    return reader


class _ClosingGzip(gzip.GzipFile):
    def __init__(self, raw: BinaryIO) -> None:
        super().__init__(fileobj=raw, mode="rb")
        self._raw = raw

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._raw.close()


def _result(
    task: RangeTask,
    counter: LineCounter,
    stats: dict[str, int],
    *,
    failure: RangeFailure | None = None,
) -> RangeResult:
    return RangeResult(
        object_index=task.object_index,
        range_index=task.range.index,
        lines=counter.lines,
        records=stats["records"],
        bytes_in=task.range.end - task.range.start,
        bytes_out=stats["bytes_out"],
        failure=failure,
    )


# One model per worker process, keyed by its containers' artifacts (model.tar.gz URIs or local
# model directories).
_MODELS: dict[tuple[str, ...], Model] = {}
_MODELS_LOCK = threading.Lock()


def load_model_cached(containers: Sequence[Mapping[str, Any]], store: ObjectStore) -> Model:
    key = tuple(container["ModelDataUrl"] for container in containers)
    with _MODELS_LOCK:
        if key not in _MODELS:
            _MODELS[key] = load_containers(containers, store, work_dir=_worker_dir())
        return _MODELS[key]


def _worker_dir() -> Path | None:
    """The Dask worker's local directory (cleaned with the worker), else the system temp dir."""
    try:
        return Path(get_worker().local_directory)
    except ValueError:  # not on a Dask worker
        return None
