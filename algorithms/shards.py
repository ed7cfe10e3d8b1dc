"""Each instance's share of the channels, read where it trains: one task per instance on its own
Dask worker downloads and parses its objects (errors name the object, line and column), and the
rows stay there as the chunks of Dask arrays that ``algorithms.distributed`` trains on.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dask.array as da
import numpy as np
from scipy import sparse

from algorithms.base import Channel, DataError, Reporter
from algorithms.builtin.boosting import READ_OPTIONS
from algorithms.codecs import LIBSVM, split_content_type
from algorithms.data import Dataset, read_channel, split_channels

if TYPE_CHECKING:
    import distributed

    from infra.storage import ObjectStore

TRAIN, VALIDATION = "train", "validation"

# ``check(dataset, source=...)`` raises a DataError naming the first label the algorithm refuses.
# It runs on the workers: a module-level function or a ``functools.partial`` of one.
LabelCheck = Callable[..., None]


@dataclass(frozen=True)
class ChannelShard:
    name: str  # "train", "validation"
    uris: tuple[str, ...]  # the s3:// objects this instance reads (all of them: FullyReplicated)
    content_type: str  # text/csv | application/jsonlines | text/libsvm (gzip by magic bytes)


@dataclass
class ShardData:
    """The shards as Dask arrays whose chunks live on the workers that read them."""

    feature_count: int
    arrays: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # channel -> (X, y)
    workers: list[str] = field(default_factory=list)  # instance n's worker is workers[n - 1]


def load_shards(
    shards: list[dict[str, ChannelShard]],
    *,
    check: LabelCheck,
    client: distributed.Client,
    store: ObjectStore,
    reporter: Reporter,
) -> ShardData:
    if not shards:
        raise ValueError("no instances to train on")
    names = [name for name, _ in _channel_names(shards[0])]
    workers = sorted(client.scheduler_info(n_workers=-1)["workers"])
    if not workers:
        raise RuntimeError("the Dask cluster has no workers")
    reporter.log(f"Reading {len(shards)} shards on {len(workers)} Dask workers")
    placed = [workers[index % len(workers)] for index in range(len(shards))]
    read = [
        client.submit(
            _read_shard,
            index,
            shard,
            store,
            check,
            workers=[worker],
            allow_other_workers=False,
            pure=False,
        )
        for index, (shard, worker) in enumerate(zip(shards, placed, strict=True))
    ]
    shapes = client.gather(
        [
            client.submit(_shapes, future, workers=[w])
            for future, w in zip(read, placed, strict=True)
        ]
    )
    feature_count, sparse_input = _feature_count(shards, shapes)
    data = ShardData(feature_count=feature_count, workers=placed)
    for name in names:
        x_parts, y_parts = [], []
        for future, worker, shape in zip(read, placed, shapes, strict=True):
            if name not in shape:
                continue
            rows = shape[name][0]
            x = client.submit(_features, future, name, feature_count, workers=[worker])
            y = client.submit(_labels, future, name, workers=[worker])
            meta = sparse.csr_matrix((0, feature_count)) if sparse_input else np.empty((0, 0))
            x_parts.append(da.from_delayed(x, shape=(rows, feature_count), meta=meta))
            y_parts.append(da.from_delayed(y, shape=(rows,), dtype=np.float64))
        if x_parts:
            data.arrays[name] = (da.concatenate(x_parts), da.concatenate(y_parts))
    if TRAIN not in data.arrays:
        raise DataError("channel has no records", source=TRAIN)
    for name, (x, _) in data.arrays.items():
        reporter.log(f"Channel {name}: {x.shape[0]} records in {x.numblocks[0]} shards")
    return data


def _channel_names(shard: dict[str, ChannelShard]) -> list[tuple[str, ChannelShard]]:
    """``train`` and the evaluation channel, refusing others as the single-machine path does."""
    train, validation = split_channels(shard)  # type: ignore[arg-type]
    return [(TRAIN, train)] + ([(VALIDATION, validation)] if validation is not None else [])


def _feature_count(
    shards: list[dict[str, ChannelShard]], shapes: list[dict[str, tuple[int, int]]]
) -> tuple[int, bool]:
    """The model's feature count: every dense shard's, or the widest libsvm train shard's."""
    media_type, _ = split_content_type(shards[0][TRAIN].content_type)
    widths = [(index, shape[TRAIN][1]) for index, shape in enumerate(shapes) if TRAIN in shape]
    if not widths:
        raise DataError("channel has no records", source=TRAIN)
    count = max(width for _, width in widths) if media_type == LIBSVM else widths[0][1]
    for index, shape in enumerate(shapes):
        for name, (_, width) in shape.items():
            if width == count or (media_type == LIBSVM and width < count):
                continue
            first = shards[index][name].uris[0]
            raise DataError(
                f"{name} data of instance {index + 1} has {width} features; "
                f"the train data of instance {widths[0][0] + 1} has {count}",
                source=f"{name} shard starting at {first}",
            )
    return count, media_type == LIBSVM


def _read_shard(
    index: int, shard: dict[str, ChannelShard], store: ObjectStore, check: LabelCheck
) -> dict[str, Dataset]:
    """On a worker: the instance's channels that have records, read and label-checked."""
    try:
        datasets: dict[str, Dataset] = {}
        for name, channel in _channel_names(shard):
            train = datasets.get(TRAIN)
            dense_train = train is not None and not sparse.issparse(train.features)
            dataset = _read_objects(
                channel, store, feature_count=train.feature_count if dense_train else None
            )
            if dataset is not None:
                where = f"{name} shard of instance {index + 1}"
                check(dataset, source=where)
                datasets[name] = dataset
        return datasets
    except DataError as error:
        raise _PortableDataError(
            error.message, source=error.source, line=error.line, column=error.column
        ) from None


def _read_objects(
    channel: ChannelShard, store: ObjectStore, *, feature_count: int | None
) -> Dataset | None:
    """The objects parsed as ``read_channel`` parses a channel, errors naming each object's URI;
    ``None`` when the shard holds no records."""
    if not channel.uris:
        return None
    with tempfile.TemporaryDirectory(prefix="sagebrush-shard-") as directory:
        # One folder per object, numbered: kept in the given order, and keys that are also
        # prefixes of other keys ("a", "a/b") cannot collide on disk. Only read: linked.
        sources = {}
        for number, uri in enumerate(channel.uris):
            relative = f"{number:08d}/{uri.rsplit('/', 1)[-1]}"
            store.download_file(uri, str(Path(directory) / relative), link=True)
            sources[f"{channel.name}/{relative}"] = uri
        local = Channel(name=channel.name, path=Path(directory), content_type=channel.content_type)
        try:
            return read_channel(local, feature_count=feature_count, **READ_OPTIONS)
        except DataError as error:
            if error.source == channel.name and error.message.startswith("channel has no"):
                return None  # other instances may have records; none at all is checked later
            raise DataError(
                error.message,
                source=sources.get(error.source or "", error.source),
                line=error.line,
                column=error.column,
            ) from None


def _shapes(datasets: dict[str, Dataset]) -> dict[str, tuple[int, int]]:
    return {name: (d.rows, d.feature_count) for name, d in datasets.items()}


def _features(datasets: dict[str, Dataset], name: str, feature_count: int) -> Any:
    features = datasets[name].features
    if sparse.issparse(features) and features.shape[1] != feature_count:
        features = sparse.csr_matrix(features)
        features.resize((features.shape[0], feature_count))
    return features


def _labels(datasets: dict[str, Dataset], name: str) -> np.ndarray:
    return np.asarray(datasets[name].labels, dtype=np.float64)


class _PortableDataError(DataError):
    """A DataError that crosses a process boundary whole (its location included)."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (_data_error, (self.message, self.source, self.line, self.column))


def _data_error(message: str, source: str | None, line: int | None, column: int | None):
    return DataError(message, source=source, line=line, column=column)
