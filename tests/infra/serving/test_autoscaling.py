"""The autoscaler's decisions: target tracking within bounds, cooldowns, several policies at
once, DisableScaleIn and suspension, and the trailing minute of invocations it tracks."""

from __future__ import annotations

from infra.serving.autoscaling import ScalingHistory, ScalingPolicy, decide


def tracking(name: str, target: float, metric: dict | None = None, **fields) -> dict:
    spec = metric or {
        "PredefinedMetricSpecification": {
            "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
        }
    }
    return {
        "PolicyName": name,
        "PolicyType": "TargetTrackingScaling",
        "TargetTrackingScalingPolicyConfiguration": {"TargetValue": target, **spec, **fields},
    }


def policy(*policies: dict, low: int = 1, high: int = 4, **suspended) -> ScalingPolicy:
    spec = {"min_instances": low, "max_instances": high, "policies": list(policies)}
    return ScalingPolicy.from_spec({**spec, "suspended": suspended})


def per_minute(invocations: float, current: int, latency_us: float = 0.0) -> dict:
    return {
        "Invocations": invocations,
        "InvocationsPerInstance": invocations / current,
        "ModelLatency": latency_us,
    }


def test_out_at_once_then_in_after_the_scale_in_cooldown():
    scaling = policy(tracking("p", 100.0, ScaleOutCooldown=0, ScaleInCooldown=30))
    history = ScalingHistory()

    out = decide(scaling, history, current=1, metrics=per_minute(350, 1), now=1000.0)
    assert out.instances == 4 and "AlarmHigh" in out.cause and out.cause.endswith("policy p")

    quiet = per_minute(0, 4)
    assert decide(scaling, history, current=4, metrics=quiet, now=1010.0) is None
    assert decide(scaling, history, current=4, metrics=quiet, now=1035.0) is None  # low 25 s
    back = decide(scaling, history, current=4, metrics=quiet, now=1041.0)
    assert back.instances == 1 and "AlarmLow" in back.cause


def test_the_scale_out_cooldown_holds_a_second_scale_out():
    scaling = policy(tracking("p", 100.0, ScaleOutCooldown=60))
    history = ScalingHistory()
    assert decide(scaling, history, current=1, metrics=per_minute(150, 1), now=0.0).instances == 2
    assert decide(scaling, history, current=2, metrics=per_minute(350, 2), now=30.0) is None
    assert decide(scaling, history, current=2, metrics=per_minute(350, 2), now=61.0).instances == 4


def test_several_policies_scale_out_when_any_asks_and_in_when_all_agree():
    latency = {
        "CustomizedMetricSpecification": {
            "MetricName": "ModelLatency",
            "Namespace": "AWS/SageMaker",
            "Statistic": "Average",
        }
    }
    scaling = policy(
        tracking("load", 100.0, ScaleOutCooldown=0, ScaleInCooldown=0),
        tracking("latency", 1000.0, latency, ScaleOutCooldown=0, ScaleInCooldown=0),
    )
    history = ScalingHistory()
    # Little load but slow answers: latency asks for 3 instances at 2 (2 * 1500 / 1000).
    slow = decide(scaling, history, current=2, metrics=per_minute(50, 2, 1500.0), now=0.0)
    assert slow.instances == 3 and slow.cause.endswith("policy latency")
    # Load asks for fewer, latency for as many: no scale-in.
    assert decide(scaling, history, current=3, metrics=per_minute(50, 3, 1000.0), now=100.0) is None


def test_disable_scale_in_and_suspension_hold_the_count():
    never_in = policy(tracking("p", 100.0, ScaleInCooldown=0, DisableScaleIn=True))
    assert decide(never_in, ScalingHistory(), current=3, metrics=per_minute(0, 3), now=0.0) is None
    suspended = policy(tracking("p", 100.0, ScaleOutCooldown=0), DynamicScalingOutSuspended=True)
    assert decide(suspended, ScalingHistory(), current=1, metrics=per_minute(900, 1), now=0) is None


def test_new_bounds_move_the_count_at_once_and_a_target_alone_only_bounds():
    bounds_only = policy(low=2, high=3)
    moved = decide(bounds_only, ScalingHistory(), current=1, metrics=per_minute(0, 1), now=0.0)
    assert moved.instances == 2
    assert decide(bounds_only, ScalingHistory(), current=3, metrics=per_minute(0, 3), now=0) is None


def test_a_setting_written_before_policies_still_tracks_its_target():
    legacy = ScalingPolicy.from_spec(
        {"min_instances": 1, "max_instances": 3, "target_invocations_per_instance": 100}
    )
    out = decide(legacy, ScalingHistory(), current=1, metrics=per_minute(250, 1), now=0.0)
    assert out.instances == 3


def test_the_trailing_minute_forgets_load_older_than_a_minute():
    history = ScalingHistory()
    minute = 1000
    # Counted from t=60000 s: 10 invocations every 5 s for 30 s, then nothing.
    counts, now, seen = {}, minute * 60.0, []
    for step in range(30):
        now = minute * 60.0 + 5 * step
        if step <= 6:
            m = int(now // 60)
            counts[m] = counts.get(m, 0) + 10
        window = {m: n for m, n in counts.items() if m >= int(now // 60) - 1}
        seen.append(history.invocations_per_minute(window, now=now))
    assert seen[12] == 60  # at 60 s: the six counts after the first one seen (5 s to 30 s)
    assert seen[13] == 50  # at 65 s, the one of 5 s has left the minute
    assert seen[-1] == 0  # a minute after the load stopped, the trailing minute is empty
