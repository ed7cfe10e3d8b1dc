"""The objects an ``S3DataSource`` names: every object under an ``S3Prefix``, or a manifest's.

A manifest (``ManifestFile``) is SageMaker's JSON array: ``[{"prefix": "s3://bucket/path/"},
"key1", "key2", ...]``. Each object keeps its path relative to the prefix's folder, which is
what batch transform keeps under ``S3OutputPath``; training channels and processing inputs place
objects as SageMaker's containers do (:func:`container_path`).

An augmented manifest (``AugmentedManifestFile``, what Ground Truth writes) is JSON Lines whose
records carry their data in attributes: the channel's ``AttributeNames`` pick them, in order, and
an attribute whose name ends in ``-ref`` (``source-ref``) holds the URI of an object to read.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from infra.storage.base import (
    BucketNotFound,
    InvalidURI,
    ObjectNotFound,
    ObjectStore,
    join_uri,
    parse_uri,
)

S3_DATA_TYPES = ("S3Prefix", "ManifestFile", "AugmentedManifestFile")
AUGMENTED_MANIFEST = "AugmentedManifestFile"
REFERENCE_SUFFIX = "-ref"  # an attribute naming an object (source-ref), not holding the data


class InputError(ValueError):
    """The data source cannot be listed: a prefix matching nothing, an unreadable manifest."""

    def __init__(self, uri: str, rule: str) -> None:
        super().__init__(f"{uri}: {rule}")
        self.uri = uri
        self.rule = rule


@dataclass(frozen=True)
class InputObject:
    uri: str
    relative_path: str  # the subpath below the prefix's folder
    size: int


def list_inputs(store: ObjectStore, *, data_type: str, uri: str) -> list[InputObject]:
    """The source's objects in key (or manifest) order; raises InputError when there are none.
    An augmented manifest is itself the one object (its records are read by
    :func:`read_augmented_manifest`)."""
    if data_type == "ManifestFile":
        inputs = _manifest_inputs(uri, store)
    elif data_type == "S3Prefix":
        inputs = _prefix_inputs(uri, store)
    elif data_type == AUGMENTED_MANIFEST:
        inputs = [_augmented_manifest_input(uri, store)]
    else:
        raise InputError(
            uri,
            f"S3DataType {data_type!r} is not supported; use {', '.join(S3_DATA_TYPES)}",
        )
    if not inputs:
        raise InputError(uri, "matches no objects")
    return inputs


def container_path(obj: InputObject, *, data_type: str, uri: str) -> str:
    """Where an object lands below a job's channel or input folder, as SageMaker's containers
    and the SDK's local mode place it: an ``S3Prefix`` object's key after the prefix
    (``s3://b/p/data`` with ``p/data/iris.csv`` gives ``iris.csv``; an object the URI names
    exactly, its own name); a manifest's objects, their listed keys."""
    if data_type != "S3Prefix":
        return obj.relative_path
    prefix, key = parse_uri(uri)[1], parse_uri(obj.uri)[1]
    return key[len(prefix) :].lstrip("/") or posixpath.basename(key)


def _prefix_inputs(prefix_uri: str, store: ObjectStore) -> list[InputObject]:
    _bucket, prefix = parse_uri(prefix_uri)
    # The kept subpath is relative to the prefix's "folder": s3://b/data/in matches
    # data/input1.csv and data/in/x.csv, giving input1.csv and in/x.csv.
    base = prefix if prefix.endswith("/") else posixpath.dirname(prefix)
    base = f"{base}/" if base and not base.endswith("/") else base
    return [
        InputObject(info.uri, info.key[len(base) :], info.size)
        for info in store.list(prefix_uri)
        if not info.key.endswith("/")  # folder markers made by consoles
    ]


def _manifest_inputs(manifest_uri: str, store: ObjectStore) -> list[InputObject]:
    try:
        entries = json.loads(store.read_bytes(manifest_uri))
    except ObjectNotFound:
        raise InputError(manifest_uri, "names no manifest object") from None
    except ValueError as error:
        raise InputError(manifest_uri, f"is not a JSON manifest: {error}") from None
    if (
        not isinstance(entries, list)
        or not entries
        or not isinstance(entries[0], dict)
        or not isinstance(entries[0].get("prefix"), str)
        or not all(isinstance(key, str) for key in entries[1:])
    ):
        raise InputError(
            manifest_uri, 'must be a JSON array of {"prefix": "s3://bucket/path/"}, then keys'
        )
    bucket, prefix = parse_uri(entries[0]["prefix"])
    inputs = []
    for key in entries[1:]:
        try:
            info = store.stat(join_uri(bucket, prefix + key))
        except ObjectNotFound:
            raise InputError(
                manifest_uri, f"lists {prefix + key!r}, which does not exist"
            ) from None
        inputs.append(InputObject(info.uri, key, info.size))
    return inputs


def _augmented_manifest_input(manifest_uri: str, store: ObjectStore) -> InputObject:
    try:
        info = store.stat(manifest_uri)
    except ObjectNotFound:
        raise InputError(manifest_uri, "names no augmented manifest object") from None
    return InputObject(info.uri, posixpath.basename(info.key), info.size)


def read_augmented_manifest(
    store: ObjectStore, *, uri: str, attribute_names: list[str]
) -> Iterator[tuple[int, list[Any]]]:
    """Each record of an augmented manifest as ``(line number, values)``: the values of
    ``attribute_names`` in that order, a ``-ref`` attribute's as the text of the object it names.
    Blank lines are skipped; a line that is not a JSON object, or lacks one of the attributes,
    raises InputError naming the line."""
    try:
        raw = store.read_bytes(uri)
    except ObjectNotFound:
        raise InputError(uri, "names no augmented manifest object") from None
    for number, line in enumerate(raw.decode("utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as error:
            raise InputError(uri, f"line {number} is not JSON: {error}") from None
        if not isinstance(record, dict):
            raise InputError(uri, f"line {number} is not a JSON object")
        values = []
        for name in attribute_names:
            if name not in record:
                raise InputError(uri, f"line {number} has no attribute {name!r}")
            value = record[name]
            if name.endswith(REFERENCE_SUFFIX):
                value = _referenced_text(store, uri, number, name, value)
            values.append(value)
        yield number, values


def _referenced_text(store: ObjectStore, uri: str, number: int, name: str, value: Any) -> str:
    where = f"line {number}, attribute {name!r}"
    if not isinstance(value, str):
        raise InputError(uri, f"{where}: expected an s3:// URI, got {json.dumps(value)[:80]}")
    try:
        parse_uri(value)
        return store.read_bytes(value).decode("utf-8", errors="replace")
    except (ObjectNotFound, BucketNotFound):
        raise InputError(uri, f"{where}: {value} does not exist") from None
    except InvalidURI as error:
        raise InputError(uri, f"{where}: {error}") from None
