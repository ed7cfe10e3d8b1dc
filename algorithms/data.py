"""A training channel's files read into features and labels.

``text/csv`` (label in column 0, no header; ``label_size=0`` in the content type for none),
``application/jsonlines`` (``{"features": [...], "label": y}``), ``text/libsvm``
(``label idx:val ...``, sparse) and ``application/x-recordio-protobuf`` (SageMaker's ``Record``
messages, dense or sparse; a file that starts with RecordIO's magic is read as such whatever the
channel's type says, as the SDK's ``record_set`` names none). Every file under the channel
directory is read in key order, gzipped or not; errors name the file (as ``<channel>/<key>``),
the line and the column.

Hostile data fails early, in bounded memory: a channel larger than File-mode training can hold
(:func:`memory_budget`) before anything is parsed, a gzipped file as its decompressed data (streamed
to disk beside it) passes that bound, and a CSV or JSON Lines line longer than
:data:`MAX_LINE_BYTES` before the parser would hold it.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import resource
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psutil
from scipy import sparse

from algorithms.base import Channel, DataError
from algorithms.codecs import CSV, JSONLINES, LIBSVM, split_content_type
from algorithms.recordio import RECORDIO, is_recordio
from algorithms.recordio_matrix import read_matrix
from algorithms.tabular import parse_csv, parse_jsonlines
from algorithms.text_lines import check_line_length

_GZIP_MAGIC = b"\x1f\x8b"
_GUNZIP_CHUNK_BYTES = 1 << 20
# The most one CSV or JSON Lines record may take: about 100,000 features of 10 characters. The
# parsers hold a whole line, and pandas builds a column per cell (a first line of 1 MiB of "1,"
# cells costs it 16 s and 0.5 GB; 4 MiB, 57 s and 2 GB), so a line with no end would take the
# machine; wider data belongs in libsvm or RecordIO-protobuf, which are sparse.
MAX_LINE_BYTES = 1 << 20
# File-mode training holds a channel in memory; its data may take this share of the memory free
# when it is read. Parsed numbers take about what their text does (8 bytes against 8 to 12
# characters) and training copies them at least once (a DMatrix, tensors, scaled features), so
# more than half fails anyway, later, at the OOM killer, which names nothing.
FILE_MODE_MEMORY_SHARE = 0.5


@dataclass(frozen=True)
class Dataset:
    features: np.ndarray | sparse.csr_matrix
    labels: np.ndarray | None  # None for unlabelled data

    @property
    def rows(self) -> int:
        return self.features.shape[0]

    @property
    def feature_count(self) -> int:
        return self.features.shape[1]


def read_channel(
    channel: Channel,
    *,
    labelled: bool = True,
    feature_count: int | None = None,
    allow_missing: bool = False,
    allow_sparse: bool = False,
) -> Dataset:
    """Read every file of ``channel`` into one :class:`Dataset`.

    ``labelled`` is the algorithm's expectation; a CSV content type's ``label_size`` parameter
    overrides it. ``feature_count`` (e.g. the train channel's, when reading validation) is
    enforced. ``allow_sparse`` admits ``text/libsvm`` (tree algorithms); ``allow_missing`` admits
    empty feature cells as NaN.
    """
    media_type, params = split_content_type(channel.content_type)
    has_label = _label_size(channel, params, default=labelled)
    if media_type == LIBSVM and not allow_sparse:
        raise DataError(f"{LIBSVM} is not supported by this algorithm", source=channel.name)
    if media_type not in (CSV, JSONLINES, LIBSVM, RECORDIO):
        raise DataError(
            f"content type {channel.content_type!r} is not supported for training; "
            f"use {CSV}, {JSONLINES}, {LIBSVM} or {RECORDIO}",
            source=channel.name,
        )
    files = channel_files(channel.path)
    if not files:
        raise DataError("channel has no files", source=channel.name)
    sizes = {path: path.stat().st_size for path in files}
    held, budget = sum(sizes.values()), memory_budget()
    if held > budget:
        raise DataError(
            f"channel holds {_size(held)}; {_held_in_memory(budget)}", source=channel.name
        )
    parts: list[Dataset] = []
    for path in files:
        source = f"{channel.name}/{path.relative_to(channel.path).as_posix()}"
        limit = budget - (held - sizes[path])  # what the channel's other files leave this one
        with _plain_file(path, source=source, limit=limit, budget=budget) as plain:
            held += plain.stat().st_size - sizes[path]
            if media_type == RECORDIO or _starts_recordio(plain):
                part = _read_recordio(
                    plain, source=source, feature_count=feature_count, labelled=labelled
                )
                part = part if allow_sparse else Dataset(_dense(part.features), part.labels)
            elif media_type == LIBSVM:
                part = _read_libsvm(plain.read_bytes(), source=source)
            elif media_type == JSONLINES:
                check_line_length(plain, source=source, limit=MAX_LINE_BYTES)
                features, labels = parse_jsonlines(
                    plain,
                    source=source,
                    columns=feature_count,
                    label=has_label,
                    allow_missing=allow_missing,
                )
                part = Dataset(features, labels)
            else:
                check_line_length(plain, source=source, limit=MAX_LINE_BYTES)
                matrix = parse_csv(
                    plain,
                    source=source,
                    columns=None if feature_count is None else feature_count + has_label,
                    label_columns=int(has_label),
                    allow_missing=allow_missing,
                )
                if len(matrix) == 0:
                    continue
                part = Dataset(matrix[:, has_label:], matrix[:, 0] if has_label else None)
        if part.rows == 0:
            continue
        if feature_count is None and not sparse.issparse(part.features):
            feature_count = part.feature_count
        parts.append(part)
    if not parts:
        raise DataError("channel has no records", source=channel.name)
    dataset = _concatenate(parts, feature_count=feature_count, source=channel.name)
    # An unsupervised algorithm ignores labels that a labelled file (label_size=1) carries.
    return dataset if labelled else Dataset(dataset.features, None)


def channel_files(path: Path) -> list[Path]:
    """Every regular file under ``path``, in key order; hidden files (``.name``) are skipped."""
    files = [
        item
        for item in Path(path).rglob("*")
        if item.is_file() and not any(part.startswith(".") for part in item.relative_to(path).parts)
    ]
    return sorted(files, key=lambda item: item.relative_to(path).as_posix())


def memory_budget() -> int:
    """The bytes a channel's data may take in File-mode training: ``FILE_MODE_MEMORY_SHARE`` of
    the memory free now, or of what the process's own limit (the job sandbox's RLIMIT_DATA, an
    RLIMIT_AS) leaves it, whichever is less."""
    free = psutil.virtual_memory().available
    used = psutil.Process().memory_info().rss
    for kind in (resource.RLIMIT_AS, resource.RLIMIT_DATA):
        soft, _ = resource.getrlimit(kind)
        if soft != resource.RLIM_INFINITY:
            free = min(free, max(0, soft - used))
    return int(free * FILE_MODE_MEMORY_SHARE)


def _held_in_memory(budget: int) -> str:
    return (
        f"File-mode training reads a channel into memory and {_size(budget)} are available to "
        f"it ({FILE_MODE_MEMORY_SHARE:.0%} of the memory free); train on less data, or where "
        "more memory is free"
    )


def _size(count: int) -> str:
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} bytes"


@contextlib.contextmanager
def _plain_file(path: Path, *, source: str, limit: int, budget: int) -> Iterator[Path]:
    """The file itself or, gzipped, its data streamed a chunk at a time to a hidden file beside it
    (removed afterwards), so that a gzip bomb never lands in memory: decompressing more than
    ``limit`` bytes fails, naming the file."""
    with path.open("rb") as file:
        gzipped = file.read(len(_GZIP_MAGIC)) == _GZIP_MAGIC
    if not gzipped:
        yield path
        return
    target = _scratch_file(path)
    try:
        _gunzip(path, target, source=source, limit=limit, budget=budget)
        yield target
    finally:
        target.unlink(missing_ok=True)


def _scratch_file(path: Path) -> Path:
    # Hidden (a dot name), so that channel_files never lists it; the system's temp folder where
    # the channel's own is read-only.
    options = {"prefix": f".{path.name}.", "suffix": ".gunzipped"}
    try:
        descriptor, name = tempfile.mkstemp(dir=path.parent, **options)
    except OSError:
        descriptor, name = tempfile.mkstemp(**options)
    os.close(descriptor)
    return Path(name)


def _gunzip(path: Path, target: Path, *, source: str, limit: int, budget: int) -> None:
    written = 0
    try:
        with gzip.open(path, "rb") as stream, target.open("wb") as out:
            while chunk := stream.read(_GUNZIP_CHUNK_BYTES):
                written += len(chunk)
                if written > limit:
                    other = "" if limit == budget else " with the channel's other files"
                    raise DataError(
                        f"decompresses to more than {_size(limit)}, too much{other}: "
                        f"{_held_in_memory(budget)}",
                        source=source,
                    )
                out.write(chunk)
    except (OSError, EOFError) as error:  # a broken gzip stream; a full disk
        raise DataError(f"cannot gunzip: {error}", source=source) from None


def _starts_recordio(path: Path) -> bool:
    with path.open("rb") as stream:
        return is_recordio(stream.read(4))


def _read_recordio(
    path: Path, *, source: str, feature_count: int | None, labelled: bool
) -> Dataset:
    try:
        with path.open("rb") as stream:
            features, labels = read_matrix(stream, source=source, feature_count=feature_count)
    except (OSError, EOFError) as error:
        raise DataError(f"cannot read: {error}", source=source) from None
    if labelled and labels is None and features.shape[0]:
        raise DataError(
            'records have no label["values"]; this algorithm needs labels', source=source
        )
    return Dataset(features, labels if labelled else None)


def _dense(features: np.ndarray | sparse.csr_matrix) -> np.ndarray:
    return features.toarray() if sparse.issparse(features) else features


def _label_size(channel: Channel, params: dict[str, str], *, default: bool) -> bool:
    value = params.get("label_size")
    if value is None:
        return default
    if value not in ("0", "1"):
        raise DataError(f"label_size must be 0 or 1 (got {value!r})", source=channel.name)
    if value == "0" and default:
        raise DataError("this algorithm needs labels; label_size=0 has none", source=channel.name)
    return value == "1"


def _read_libsvm(raw: bytes, *, source: str) -> Dataset:
    # Here, not at the top: scikit-learn takes about a second to import, and only libsvm input
    # needs it (the torch built-ins otherwise never load it).
    from sklearn.datasets import load_svmlight_file

    if not raw.strip():
        return Dataset(sparse.csr_matrix((0, 0)), np.empty(0))
    try:
        # Indices are column numbers as written (XGBoost's reading), never shifted by one.
        features, labels = load_svmlight_file(io.BytesIO(raw), zero_based=True)
    except ValueError as error:
        _scan_libsvm(raw, source=source)
        raise DataError(f"cannot parse libsvm: {error}", source=source) from None
    return Dataset(features.tocsr(), labels)


def _scan_libsvm(raw: bytes, *, source: str) -> None:
    text = raw.decode("utf-8", errors="replace")
    for number, line in enumerate(text.split("\n"), start=1):
        tokens = line.split("#", 1)[0].split()
        if not tokens:
            continue
        try:
            float(tokens[0])
        except ValueError:
            raise DataError(
                f"label is not a number: {tokens[0]!r}", source=source, line=number, column=1
            ) from None
        for position, token in enumerate(tokens[1:], start=2):
            index, _, value = token.partition(":")
            if index == "qid":
                continue
            try:
                if int(index) < 0:
                    raise ValueError
                float(value)
            except ValueError:
                raise DataError(
                    f"expected index:value, got {token!r}",
                    source=source,
                    line=number,
                    column=position,
                ) from None


def _concatenate(parts: list[Dataset], *, feature_count: int | None, source: str) -> Dataset:
    if len(parts) == 1 and not sparse.issparse(parts[0].features):
        return parts[0]
    labels = None if parts[0].labels is None else np.concatenate([p.labels for p in parts])
    if not any(sparse.issparse(part.features) for part in parts):
        return Dataset(np.concatenate([part.features for part in parts]), labels)
    width = max(part.feature_count for part in parts)
    if feature_count is not None:
        if width > feature_count:
            raise DataError(
                f"data has feature index {width - 1}; the model has {feature_count} features",
                source=source,
            )
        width = feature_count
    blocks = []
    for part in parts:
        block = sparse.csr_matrix(part.features)
        block.resize((block.shape[0], width))
        blocks.append(block)
    return Dataset(sparse.vstack(blocks, format="csr"), labels)


def split_channels(
    channels: Mapping[str, Channel], *, evaluation: tuple[str, ...] = ("validation",)
) -> tuple[Channel, Channel | None]:
    """The ``train`` channel and the first evaluation channel present (by SageMaker's names)."""
    if "train" not in channels:
        raise DataError("a train channel is required", source="train")
    known = ("train", *evaluation)
    for name in channels:
        if name not in known:
            raise DataError(
                f"unexpected channel; this algorithm reads {', '.join(known)}", source=name
            )
    return channels["train"], next((channels[n] for n in evaluation if n in channels), None)
