"""Target tracking for one variant: enough instances for the target invocations per instance."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ScalingPolicy:
    min_instances: int
    max_instances: int
    target_invocations_per_instance: float  # per minute, as SageMakerVariantInvocationsPerInstance

    @classmethod
    def from_spec(cls, spec: dict | None) -> ScalingPolicy | None:
        if not spec:
            return None
        return cls(
            min_instances=int(spec["min_instances"]),
            max_instances=int(spec["max_instances"]),
            target_invocations_per_instance=float(spec["target_invocations_per_instance"]),
        )


def desired_instances(policy: ScalingPolicy, *, invocations_per_minute: float) -> int:
    """The instance count that brings invocations per instance to the target, within bounds."""
    needed = math.ceil(invocations_per_minute / policy.target_invocations_per_instance)
    return max(policy.min_instances, min(policy.max_instances, needed))


def invocations_per_minute(counts: dict[int, int], *, now: float) -> float:
    """The rate over the last 60 s: this minute's count plus the prorated last minute's."""
    minute = int(now // 60)
    elapsed = (now % 60) / 60
    return counts.get(minute, 0) + counts.get(minute - 1, 0) * (1 - elapsed)
