"""A training job's local disk: its scratch folder, and the channels and code staged into it.

Scratch lives under DATA_DIR/work, on the object store's file system, so that input can be linked
rather than copied; a run killed mid-way leaves its folder, which the start-up reconcile removes.

An ``AugmentedManifestFile`` channel is staged as one CSV file that the built-ins already read:
per record, the label attribute's number (the second of ``AttributeNames``, Ground Truth's class
index) then the data attribute's comma-separated features (the first: ``source`` inline, or the
object ``source-ref`` names). Any other shape fails the job naming the manifest, line and attribute.
"""

from __future__ import annotations

import contextlib
import json
import math
import posixpath
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from algorithms import Channel
from algorithms.script_toolkit import SUBMIT_DIRECTORY
from algorithms.shards import ChannelShard
from console.training.selectors import training_job_active_ids
from infra.config import settings
from infra.storage import parse_uri
from infra.storage.inputs import (
    AUGMENTED_MANIFEST,
    InputError,
    container_path,
    list_inputs,
    read_augmented_manifest,
)


def scratch_root() -> Path:
    """Where training jobs keep their scratch folders (one per job, named by its id)."""
    return settings().work_dir / "training"


@contextlib.contextmanager
def job_scratch(job_id: int) -> Iterator[Path]:
    """The job's empty scratch folder (its input, the model being packed), removed when done."""
    work = scratch_root() / str(job_id)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def remove_abandoned_scratch() -> int:
    """Remove the scratch folders of training jobs that no longer run, and say how many: a flow
    run killed mid-way (the machine stopped, a kill -9) leaves its folder behind. Run at start-up,
    after the interrupted jobs were ended."""
    root = scratch_root()
    # The folders first, then the running jobs: a folder listed here belongs to a job that was
    # running when it was made, so a job absent from the second read has ended.
    folders = list(root.iterdir()) if root.is_dir() else []
    running = {str(pk) for pk in training_job_active_ids()}
    abandoned = [folder for folder in folders if folder.name not in running]
    for folder in abandoned:
        shutil.rmtree(folder, ignore_errors=True)
    return len(abandoned)


def download_channels(
    channels: list[dict[str, Any]], input_dir: Path, store, reporter, *, link: bool = False
) -> dict:
    """Copy each channel's objects to ``input_dir/data/<channel>/`` keeping their subpaths;
    ``link`` where the algorithm only reads them (see ``ObjectStore.download_file``)."""

    local = {}
    for channel in channels:
        source = channel["DataSource"]["S3DataSource"]
        directory = input_dir / "data" / channel["ChannelName"]
        directory.mkdir(parents=True)
        if source["S3DataType"] == AUGMENTED_MANIFEST:
            local[channel["ChannelName"]] = _stage_augmented_manifest(
                channel, directory, store, reporter
            )
            continue
        objects = list_inputs(store, data_type=source["S3DataType"], uri=source["S3Uri"])
        for item in objects:
            relative = container_path(item, data_type=source["S3DataType"], uri=source["S3Uri"])
            target = directory / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            store.download_file(item.uri, str(target), link=link)
        total = sum(item.size for item in objects)
        reporter.log(
            f"Channel {channel['ChannelName']}: {len(objects)} objects, {total} bytes from "
            f"{source['S3Uri']}"
        )
        local[channel["ChannelName"]] = Channel(
            name=channel["ChannelName"],
            path=directory,
            content_type=channel.get("ContentType", "text/csv"),
        )
    return local


def channel_shards(channels: list[dict[str, Any]], store, *, instances: int) -> list[dict]:
    """Each instance's objects per channel: all of them (FullyReplicated) or every n-th object
    (ShardedByS3Key), as SageMaker hands them out."""

    shards: list[dict] = [{} for _ in range(instances)]
    for channel in channels:
        source = channel["DataSource"]["S3DataSource"]
        if source["S3DataType"] == AUGMENTED_MANIFEST:
            raise InputError(
                source["S3Uri"],
                f"channel {channel['ChannelName']!r}: an AugmentedManifestFile channel trains on "
                "one instance; set ResourceConfig.InstanceCount to 1",
            )
        uris = [
            o.uri for o in list_inputs(store, data_type=source["S3DataType"], uri=source["S3Uri"])
        ]
        sharded = source.get("S3DataDistributionType") == "ShardedByS3Key"
        for index, shard in enumerate(shards):
            shard[channel["ChannelName"]] = ChannelShard(
                name=channel["ChannelName"],
                uris=tuple(uris[index::instances] if sharded else uris),
                content_type=channel.get("ContentType", "text/csv"),
            )
    return shards


def _stage_augmented_manifest(channel: dict[str, Any], directory: Path, store, reporter) -> Channel:
    """The manifest's records as ``<manifest name>.csv``, label first (``label_size=1``), or
    features only (``label_size=0``) when ``AttributeNames`` names no label attribute."""
    source = channel["DataSource"]["S3DataSource"]
    uri, names = source["S3Uri"], list(source.get("AttributeNames") or [])
    if not 1 <= len(names) <= 2:
        raise InputError(
            uri,
            "AttributeNames must name the data attribute (source or source-ref) and then the "
            f"label attribute; got {len(names)} names",
        )
    target = directory / f"{posixpath.basename(parse_uri(uri)[1]) or 'manifest'}.csv"
    records = 0
    with target.open("w", encoding="utf-8") as out:
        for line, values in read_augmented_manifest(store, uri=uri, attribute_names=names):
            cells = [_label_cell(uri, line, names[1], values[1])] if len(names) == 2 else []
            cells.append(_feature_cells(uri, line, names[0], values[0]))
            out.write(",".join(cells) + "\n")
            records += 1
    if not records:
        raise InputError(uri, "holds no records")
    reporter.log(
        f"Channel {channel['ChannelName']}: {records} records from the augmented manifest {uri} "
        f"(AttributeNames {', '.join(names)})"
    )
    return Channel(
        name=channel["ChannelName"],
        path=directory,
        content_type=f"text/csv;label_size={len(names) - 1}",
    )


def _feature_cells(uri: str, line: int, name: str, value: Any) -> str:
    where = f"line {line}, attribute {name!r}"
    if not isinstance(value, str):
        raise InputError(
            uri, f"{where}: expected a comma-separated row of numbers, got {_shown(value)}"
        )
    row = value.strip()
    if "\n" in row or "\r" in row:
        raise InputError(uri, f"{where}: expected one comma-separated row, got several lines")
    cells = [cell.strip() for cell in row.split(",")]
    for column, cell in enumerate(cells, start=1):
        if cell and not _is_number(cell, finite=False):  # NaN is a missing value
            raise InputError(uri, f"{where}: column {column} is not a number: {cell[:40]!r}")
    return ",".join(cells)


def _label_cell(uri: str, line: int, name: str, value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return repr(value)
    if isinstance(value, str) and _is_number(value.strip()):
        return value.strip()
    raise InputError(
        uri, f"line {line}, attribute {name!r}: the label must be a number, got {_shown(value)}"
    )


def _is_number(text: str, *, finite: bool = True) -> bool:
    try:
        number = float(text)
    except ValueError:
        return False
    return math.isfinite(number) or not finite


def _shown(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def download_code(hyperparameters: dict[str, str], work: Path, store) -> dict[str, str]:
    """Script mode: the ``sagemaker_submit_directory`` tarball, fetched to local disk; returns
    the hyperparameter that names the local copy (none where the code is not in the store)."""

    raw = hyperparameters.get(SUBMIT_DIRECTORY)
    if raw is None:
        return {}
    uri = json.loads(raw) if raw.startswith('"') else raw
    if not uri.startswith("s3://"):
        return {}
    target = work / "code" / "sourcedir.tar.gz"
    target.parent.mkdir(parents=True)
    store.download_file(uri, str(target))
    return {SUBMIT_DIRECTORY: str(target)}
