"""Publish an object's ``.out`` from its range parts, or discard them: never a partial output.

``compose`` concatenates the parts in range order into the output atomically (server-side on S3
when the parts are at least 5 MiB, streamed otherwise); the parts already carry every newline
AssembleWith asked for, so assembly adds no bytes of its own.
"""

from __future__ import annotations

from collections.abc import Sequence

from batch.plan import ObjectPlan, part_uri
from infra.storage.base import ObjectStore, until_available


def part_uris(plan: ObjectPlan, *, output_path: str, job_name: str) -> list[str]:
    return [part_uri(output_path, job_name, plan.index, r.index) for r in plan.ranges]


def publish(
    store: ObjectStore, plan: ObjectPlan, *, parts: Sequence[str], wait: float = 0.0
) -> int:
    """Write ``plan.output_uri`` from ``parts`` in order, then delete them; returns its size.
    Each step is made again while the storage server does not answer, for up to ``wait``
    seconds (both are safe to repeat: the parts stay until the output is whole)."""

    def assemble():
        if len(parts) == 1:
            return store.copy(parts[0], plan.output_uri)
        return store.compose(plan.output_uri, parts)

    info = until_available(assemble, within=wait)
    until_available(lambda: discard(store, parts), within=wait)
    return info.size


def discard(store: ObjectStore, parts: Sequence[str]) -> None:
    """Delete an object's parts (missing ones are fine: a failed range writes none)."""
    for uri in parts:
        store.delete(uri)
