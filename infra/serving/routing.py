"""Which variant answers a request: the one named by the caller, else one drawn by weight."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

# How long a web process may route by what it last read; the deploy flow waits longer than this
# before it stops a retired variant's instances.
ROUTE_CACHE_S = 1.0


@dataclass(frozen=True)
class Route:
    variant_name: str
    variant_id: str  # the deployed variant's queue
    weight: float


class NoSuchVariant(LookupError):
    pass


def choose(routes: Sequence[Route], target: str | None = None, *, rng=random) -> Route:
    """Traffic share is weight / sum of weights; ``target`` (a variant name) overrides it."""
    if target:
        for route in routes:
            if route.variant_name == target:
                return route
        raise NoSuchVariant(target)
    total = sum(route.weight for route in routes)
    if total <= 0:
        raise NoSuchVariant("")
    point = rng.random() * total
    for route in routes:
        point -= route.weight
        if point < 0 and route.weight > 0:
            return route
    return next(route for route in reversed(routes) if route.weight > 0)
