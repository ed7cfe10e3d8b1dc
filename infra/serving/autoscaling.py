"""A variant's autoscaling, as the supervisor applies it: the bounds registered for it and its
target-tracking policies (Application Auto Scaling's shapes), their cooldowns, and the trailing
minute of metrics they track. Nothing here knows about Django.

The spec (``autoscaling`` of a variant's serving spec) is ``{"min_instances", "max_instances",
"suspended": SuspendedState, "policies": [ScalingPolicy, ...]}``, the policies as Application Auto
Scaling describes them. Several target-tracking policies act together as that service's do: the
variant scales out when any asks for more, and in only when all ask for less.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

DEFAULT_COOLDOWN_S = 300.0  # SageMaker's ScaleInCooldown and ScaleOutCooldown when not given
METRIC_WINDOW_S = 60.0  # the metrics' period: one minute, as CloudWatch's for SageMaker
PREDEFINED_METRICS = {"SageMakerVariantInvocationsPerInstance": "InvocationsPerInstance"}
# Metrics of AWS/SageMaker a customized metric specification may track: per minute, ModelLatency
# in microseconds.
CUSTOM_METRICS = ("InvocationsPerInstance", "Invocations", "ModelLatency")


@dataclass(frozen=True)
class TargetTracking:
    name: str
    metric: str  # one of CUSTOM_METRICS
    target: float
    scale_out_cooldown_s: float = DEFAULT_COOLDOWN_S
    scale_in_cooldown_s: float = DEFAULT_COOLDOWN_S
    disable_scale_in: bool = False
    alarms: tuple[str, ...] = ()  # the names its policy gives its alarms

    @classmethod
    def from_policy(cls, policy: dict) -> TargetTracking | None:
        config = policy.get("TargetTrackingScalingPolicyConfiguration")
        if policy.get("PolicyType") != "TargetTrackingScaling" or not config:
            return None
        predefined = config.get("PredefinedMetricSpecification")
        if predefined:
            metric = PREDEFINED_METRICS.get(predefined.get("PredefinedMetricType", ""))
        else:
            metric = (config.get("CustomizedMetricSpecification") or {}).get("MetricName")
        if metric not in CUSTOM_METRICS:
            return None
        return cls(
            name=policy["PolicyName"],
            metric=metric,
            target=float(config["TargetValue"]),
            scale_out_cooldown_s=float(config.get("ScaleOutCooldown", DEFAULT_COOLDOWN_S)),
            scale_in_cooldown_s=float(config.get("ScaleInCooldown", DEFAULT_COOLDOWN_S)),
            disable_scale_in=bool(config.get("DisableScaleIn", False)),
            alarms=tuple(a["AlarmName"] for a in policy.get("Alarms") or ()),
        )

    def desired(self, current: int, metrics: dict[str, float]) -> int:
        """The instance count that brings the metric to the target."""
        value = metrics.get(self.metric, 0.0)
        if self.metric == "InvocationsPerInstance":  # the load itself, whatever the count now
            return math.ceil(metrics.get("Invocations", 0.0) / self.target)
        return math.ceil(max(current, 1) * value / self.target)


@dataclass(frozen=True)
class ScalingPolicy:
    min_instances: int
    max_instances: int
    targets: tuple[TargetTracking, ...] = ()
    scale_in_suspended: bool = False
    scale_out_suspended: bool = False

    @classmethod
    def from_spec(cls, spec: dict | None) -> ScalingPolicy | None:
        if not spec:
            return None
        if "policies" not in spec and "target_invocations_per_instance" in spec:
            # Written before policies were kept: the console's one target, as it behaved then.
            target = float(spec["target_invocations_per_instance"])
            targets = (TargetTracking("target-tracking", "InvocationsPerInstance", target, 0, 60),)
        else:
            found = (TargetTracking.from_policy(p) for p in spec.get("policies") or ())
            targets = tuple(t for t in found if t is not None)
        suspended = spec.get("suspended") or {}
        return cls(
            min_instances=int(spec["min_instances"]),
            max_instances=int(spec["max_instances"]),
            targets=targets,
            scale_in_suspended=bool(suspended.get("DynamicScalingInSuspended")),
            scale_out_suspended=bool(suspended.get("DynamicScalingOutSuspended")),
        )

    def clamp(self, count: int) -> int:
        return max(self.min_instances, min(self.max_instances, count))


@dataclass
class ScalingHistory:
    """What one variant's autoscaling remembers between passes of the supervisor."""

    last_scale_out: float = -math.inf
    last_activity: float = -math.inf
    low_since: float | None = None
    # (time, invocations counted since the sample before), for a true trailing minute.
    samples: deque = field(default_factory=deque)
    last_counts: dict[int, int] | None = None
    first_sample: float | None = None

    def invocations_per_minute(self, counts: dict[int, int], *, now: float) -> float:
        """The trailing minute's invocations: from the counts seen pass by pass once a minute
        of them is known, before that prorated from the per-minute counters."""
        if self.last_counts is not None:
            added = sum(n - self.last_counts.get(m, 0) for m, n in counts.items())
            self.samples.append((now, max(0, added)))
        self.last_counts = dict(counts)
        self.first_sample = self.first_sample if self.first_sample is not None else now
        while self.samples and self.samples[0][0] <= now - METRIC_WINDOW_S:
            self.samples.popleft()
        if now - self.first_sample >= METRIC_WINDOW_S:
            return float(sum(n for _, n in self.samples)) * 60 / METRIC_WINDOW_S
        return invocations_per_minute(counts, now=now)


@dataclass(frozen=True)
class Decision:
    instances: int
    cause: str  # why, as an activity's Cause says it


def decide(
    policy: ScalingPolicy,
    history: ScalingHistory,
    *,
    current: int,
    metrics: dict[str, float],
    now: float,
) -> Decision | None:
    """The change to make now, if any; ``history`` notes what is decided."""
    bounded = policy.clamp(current)
    if bounded != current:
        return _made(history, bounded, current, now, "the registered capacity bounds changed")
    if not policy.targets:
        return None
    wishes = [(t.desired(current, metrics), t) for t in policy.targets]
    wanted, by = max(wishes, key=lambda wish: wish[0])
    wanted = policy.clamp(wanted)
    if wanted > current:
        history.low_since = None
        if policy.scale_out_suspended or now - history.last_scale_out < by.scale_out_cooldown_s:
            return None
        history.last_scale_out = now
        return _made(history, wanted, current, now, _alarm(by, "High"))
    if wanted == current or policy.scale_in_suspended:
        history.low_since = None
        return None
    if any(t.disable_scale_in for t in policy.targets):
        return None
    cooldown = max(t.scale_in_cooldown_s for t in policy.targets)
    history.low_since = history.low_since if history.low_since is not None else now
    if now - history.low_since < cooldown or now - history.last_activity < cooldown:
        return None
    return _made(history, wanted, current, now, _alarm(by, "Low"))


def _alarm(target: TargetTracking, level: str) -> str:
    alarm = next(
        (a for a in target.alarms if f"-Alarm{level}-" in a),
        f"TargetTracking-{target.name}-Alarm{level}",
    )
    return f"monitor alarm {alarm} in state ALARM triggered policy {target.name}"


def _made(history: ScalingHistory, wanted: int, current: int, now: float, cause: str) -> Decision:
    history.last_activity = now
    history.low_since = None
    return Decision(instances=wanted, cause=cause)


def invocations_per_minute(counts: dict[int, int], *, now: float) -> float:
    """The rate over the last 60 s: this minute's count plus the prorated last minute's."""
    minute = int(now // 60)
    elapsed = (now % 60) / 60
    return counts.get(minute, 0) + counts.get(minute - 1, 0) * (1 - elapsed)
