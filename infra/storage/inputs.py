"""The objects an ``S3DataSource`` names: every object under an ``S3Prefix``, or a manifest's.

A manifest (``ManifestFile``) is SageMaker's JSON array: ``[{"prefix": "s3://bucket/path/"},
"key1", "key2", ...]``. Each object keeps its path relative to the prefix's folder, which is
what batch transform keeps under ``S3OutputPath`` and training keeps under the channel folder.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass

from infra.storage.base import ObjectNotFound, ObjectStore, join_uri, parse_uri

S3_DATA_TYPES = ("S3Prefix", "ManifestFile")


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
    """The source's objects in key (or manifest) order; raises InputError when there are none."""
    if data_type == "ManifestFile":
        inputs = _manifest_inputs(uri, store)
    elif data_type == "S3Prefix":
        inputs = _prefix_inputs(uri, store)
    else:
        raise InputError(
            uri, f"S3DataType {data_type!r} is not supported; use S3Prefix or ManifestFile"
        )
    if not inputs:
        raise InputError(uri, "matches no objects")
    return inputs


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
