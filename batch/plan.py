"""Plan a transform: list the input objects, name each output, cut large objects into byte ranges.

Going beyond SageMaker (which sends each object to one instance), a line-split object larger than
``range_bytes`` is cut into line-aligned ranges that run in parallel and are reassembled in order.
A cut lands just after a ``\\n``, so a CRLF line ending stays with its line and no record is torn.
Gzip objects and SplitType=None objects cannot be cut: they are one range.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from batch.spec import TransformSpec
from infra.storage.base import ObjectStore
from infra.storage.inputs import InputError, InputObject, list_inputs

# Ranges are sized so every worker gets several (load balance) but each stays large enough that
# per-task overhead (scheduling, model lookup, one part object) is noise.
MIN_RANGE_BYTES = 8 * 1024 * 1024
MAX_RANGE_BYTES = 64 * 1024 * 1024
RANGES_PER_WORKER = 4
# How much to read around a nominal cut to find the next line end (grows for longer lines).
BOUNDARY_WINDOW_BYTES = 64 * 1024
TEMP_DIR = ".sagebrush-tmp"


@dataclass(frozen=True)
class ByteRange:
    index: int
    start: int
    end: int  # exclusive


@dataclass(frozen=True)
class ObjectPlan:
    """One input object: where it is, where its ``.out`` goes, and its ranges in order."""

    index: int
    uri: str
    relative_path: str
    output_uri: str
    size: int
    ranges: tuple[ByteRange, ...]


def plan_transform(
    spec: TransformSpec,
    store: ObjectStore,
    *,
    job_name: str,
    range_bytes: int | None = None,
    workers: int = 1,
) -> list[ObjectPlan]:
    """Every input object in key order, with its output URI and its ranges.

    ``range_bytes`` is the nominal range size; None chooses one from the input size and
    ``workers`` (see :func:`choose_range_bytes`).
    """
    inputs = transform_inputs(spec, store, job_name=job_name)
    if range_bytes is None:
        range_bytes = choose_range_bytes(sum(item.size for item in inputs), workers=workers)
    plans = []
    for index, item in enumerate(inputs):
        splittable = spec.split_type == "Line" and spec.compression == "None"
        ranges = (
            find_ranges(store, item.uri, size=item.size, range_bytes=range_bytes)
            if splittable
            else (ByteRange(0, 0, item.size),)
        )
        plans.append(
            ObjectPlan(
                index=index,
                uri=item.uri,
                relative_path=item.relative_path,
                output_uri=output_uri(spec.output_path, item.relative_path),
                size=item.size,
                ranges=ranges,
            )
        )
    return plans


def choose_range_bytes(total_bytes: int, *, workers: int) -> int:
    """About RANGES_PER_WORKER ranges per worker, within [MIN_RANGE_BYTES, MAX_RANGE_BYTES]."""
    share = total_bytes // max(1, workers * RANGES_PER_WORKER)
    return min(MAX_RANGE_BYTES, max(MIN_RANGE_BYTES, share))


def transform_inputs(
    spec: TransformSpec, store: ObjectStore, *, job_name: str
) -> list[InputObject]:
    """The job's input objects in key (or manifest) order, less its own scratch; InputError when
    there are none."""
    inputs = list_inputs(store, data_type=spec.s3_data_type, uri=spec.input_uri)
    # When S3OutputPath lies under the input prefix, this job's own scratch is not input.
    scratch = temp_prefix(spec.output_path, job_name)
    inputs = [item for item in inputs if not item.uri.startswith(scratch)]
    if not inputs:
        raise InputError(spec.input_uri, "matches no objects")
    return inputs


def output_uri(output_path: str, relative_path: str) -> str:
    return f"{output_path.rstrip('/')}/{relative_path}.out"


def temp_prefix(output_path: str, job_name: str) -> str:
    """Where a job's range outputs wait before their object is assembled."""
    return f"{output_path.rstrip('/')}/{TEMP_DIR}/{job_name}/"


def part_uri(output_path: str, job_name: str, object_index: int, range_index: int) -> str:
    """Deterministic, so a rerun of a range overwrites its part instead of adding one."""
    return f"{temp_prefix(output_path, job_name)}{object_index:06d}/{range_index:06d}"


def find_ranges(
    store: ObjectStore,
    uri: str,
    *,
    size: int,
    range_bytes: int,
    window: int = BOUNDARY_WINDOW_BYTES,
) -> tuple[ByteRange, ...]:
    """Cut ``[0, size)`` near every multiple of ``range_bytes``, just after a line end."""
    cuts = [0]
    nominal = range_bytes
    while nominal < size:
        cut = _next_line_start(store, uri, at=max(nominal, cuts[-1]), size=size, window=window)
        if cut >= size:
            break
        cuts.append(cut)
        nominal = max(nominal + range_bytes, cut + 1)
    cuts.append(size)
    return tuple(
        ByteRange(index, start, end) for index, (start, end) in enumerate(itertools.pairwise(cuts))
    )


def _next_line_start(store: ObjectStore, uri: str, *, at: int, size: int, window: int) -> int:
    """The first offset ≥ ``at`` that starts a line (just after a ``\\n``), or ``size``."""
    # Reading from at-1 catches a newline ending exactly at the nominal cut.
    position = at - 1
    while position < size:
        chunk = store.read_bytes(uri, start=position, end=min(position + window, size))
        newline = chunk.find(b"\n")
        if newline >= 0:
            return position + newline + 1
        position += len(chunk)
        window *= 2  # a very long line: look further, in fewer reads
    return size
