"""The serving state in Redis, as the control plane reads and writes it.

The control plane (console services and the endpoint flow) says which variants are deployed
and how many instances each wants; the supervisor makes it so; instances report their health and
per-minute counters. Nothing here knows about Django.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import orjson
import redis

from infra.config import settings
from infra.serving import protocol

MAX_ACTIVITIES = 100  # scaling activities kept per variant
STALE_AFTER_S = 5.0  # an instance silent this long is not counted as serving
WATCHER_TTL_S = 24 * 3600  # a watcher's key outlives any pause of a live watcher
# What reading or writing the serving state raises while Redis cannot be reached: adapters answer
# these "unavailable, try again" (503), never as a fault of the platform's own.
STATE_UNAVAILABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


@dataclass(frozen=True)
class InstanceHealth:
    name: str
    state: str  # Loading | InService | Failed | Unresponsive
    error: str
    host: str
    pid: int
    served: int
    failed: int
    seconds_since_beat: float
    busy_for_s: float | None


@dataclass(frozen=True)
class MinuteStats:
    minute: int  # epoch minute
    invocations: int
    errors: int
    latency_ms: float  # mean, queue to reply
    batches: int


class ServingState:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    @classmethod
    def from_url(cls, redis_url: str) -> ServingState:
        return cls(redis.Redis.from_url(redis_url))

    # ---- desired state ---------------------------------------------------------------------

    def deploy(
        self,
        variant_id: str,
        *,
        containers: list[dict],
        instances: int,
        autoscaling: dict | None = None,
        max_batch: int = 32,
        max_wait_ms: float = 2.0,
        labels: dict | None = None,
    ) -> None:
        spec = {
            "containers": containers,
            "instances": instances,
            "autoscaling": autoscaling,
            "max_batch": max_batch,
            "max_wait_ms": max_wait_ms,
            "labels": labels or {},
        }
        self.client.hset(protocol.VARIANTS, variant_id, orjson.dumps(spec))

    def update(self, variant_id: str, **changes) -> dict | None:
        """Change ``instances`` or ``autoscaling`` of a deployed variant; its new spec."""
        spec = self.spec(variant_id)
        if spec is None:
            return None
        spec.update(changes)
        self.client.hset(protocol.VARIANTS, variant_id, orjson.dumps(spec))
        return spec

    def retire(self, variant_id: str) -> None:
        """Stop serving the variant: the supervisor stops its instances."""
        self.client.hdel(protocol.VARIANTS, variant_id)
        self.client.delete(protocol.activities_key(variant_id))

    def restore(self, variant_id: str, spec: dict) -> bool:
        """Deploy ``spec`` again unless the variant is deployed meanwhile; whether it was."""
        return bool(self.client.hsetnx(protocol.VARIANTS, variant_id, orjson.dumps(spec)))

    def variants_watched(self, watcher: str) -> tuple[dict[str, dict], bool]:
        """The deployed variants, and whether Redis lost the serving state since ``watcher`` last
        read them (it restarted empty, or was flushed; True on the first read). One transaction,
        so that both answers come from the same Redis even across a reconnect."""
        pipe = self.client.pipeline(transaction=True)
        pipe.set(protocol.watcher_key(watcher), b"1", ex=WATCHER_TTL_S, get=True)
        pipe.hgetall(protocol.VARIANTS)
        mark, raw = pipe.execute()
        variants = {key.decode(): orjson.loads(value) for key, value in raw.items()}
        return variants, mark is None

    def spec(self, variant_id: str) -> dict | None:
        raw = self.client.hget(protocol.VARIANTS, variant_id)
        return orjson.loads(raw) if raw else None

    def variants(self) -> dict[str, dict]:
        return {
            key.decode(): orjson.loads(value)
            for key, value in self.client.hgetall(protocol.VARIANTS).items()
        }

    # ---- what is happening -----------------------------------------------------------------

    def instances(self, variant_id: str, *, now: float | None = None) -> list[InstanceHealth]:
        now = now or time.time()
        found = []
        for name, raw in sorted(self.client.hgetall(protocol.instances_key(variant_id)).items()):
            beat = orjson.loads(raw)
            silent = max(0.0, now - beat["ts"])
            state = beat["state"]
            if silent > STALE_AFTER_S and state != "Failed":
                state = "Unresponsive"
            busy = beat.get("busy_since")
            found.append(
                InstanceHealth(
                    name=name.decode(),
                    state=state,
                    error=beat.get("error", ""),
                    host=beat.get("host", ""),
                    pid=beat.get("pid", 0),
                    served=beat.get("served", 0),
                    failed=beat.get("failed", 0),
                    seconds_since_beat=silent,
                    busy_for_s=(now - busy) if busy else None,
                )
            )
        return found

    def in_service(self, variant_id: str) -> int:
        return sum(1 for i in self.instances(variant_id) if i.state == "InService")

    def backlog(self, variant_id: str) -> int:
        """Requests queued or in hand for the variant."""
        return int(self.client.xlen(protocol.queue_key(variant_id)))

    def stats(
        self, variant_id: str, *, minutes: int = 60, now: float | None = None
    ) -> list[MinuteStats]:
        last = int((now or time.time()) // 60)
        span = range(last - minutes + 1, last + 1)
        pipe = self.client.pipeline(transaction=False)
        for minute in span:
            pipe.hgetall(protocol.stats_key(variant_id, minute))
        rows = []
        for minute, raw in zip(span, pipe.execute(), strict=True):
            count = int(raw.get(b"invocations", 0))
            rows.append(
                MinuteStats(
                    minute=minute,
                    invocations=count,
                    errors=int(raw.get(b"errors", 0)),
                    latency_ms=float(raw.get(b"latency_ms", 0)) / count if count else 0.0,
                    batches=int(raw.get(b"batches", 0)),
                )
            )
        return rows

    def invocation_counts(self, variant_id: str, *, now: float | None = None) -> dict[int, int]:
        """This minute's and the last minute's invocation counts (for autoscaling)."""
        return {row.minute: row.invocations for row in self.stats(variant_id, minutes=2, now=now)}

    # ---- scaling activities ----------------------------------------------------------------

    def record_activity(self, variant_id: str, activity: dict) -> None:
        """Keep one scaling activity of the variant (the last MAX_ACTIVITIES)."""
        key = protocol.activities_key(variant_id)
        pipe = self.client.pipeline(transaction=False)
        pipe.lpush(key, orjson.dumps(activity))
        pipe.ltrim(key, 0, MAX_ACTIVITIES - 1)
        pipe.execute()

    def activities(self, variant_id: str) -> list[dict]:
        """The variant's scaling activities, newest first."""
        raw = self.client.lrange(protocol.activities_key(variant_id), 0, -1)
        return [orjson.loads(activity) for activity in raw]


_states: dict[str, ServingState] = {}


def serving_state() -> ServingState:
    """The platform's serving state, on the configured Redis (one client per URL)."""
    url = settings().redis_url
    if url not in _states:
        _states[url] = ServingState.from_url(url)
    return _states[url]
