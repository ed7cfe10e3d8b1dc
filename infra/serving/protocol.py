"""What endpoint workers and the web side say to each other over Redis, in one place.

A variant's queue is a Redis stream (``queue_key``) read by one consumer group: every instance
of the variant is a consumer, reads a batch of entries at once, and acknowledges each entry only
after its reply is written (late ack). An entry left pending by an instance that died is
requeued by the supervisor (``requeue_dead``), or answered with an error after ``MAX_ATTEMPTS``.

Replies go to the caller's own list (``reply_key``): one list per web process, read by one
listener, rather than one subscription per request.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

PREFIX = "sb:serving"
GROUP = "instances"
VARIANTS = f"{PREFIX}:variants"  # hash: variant id -> desired state (JSON)
VARIANT_ENV = "SAGEBRUSH_SERVING_VARIANT"  # which variant an instance process serves
INSTANCE_ENV = "SAGEBRUSH_SERVING_INSTANCE"  # and its consumer name
MAX_ATTEMPTS = 2  # deliveries of one request before it is answered with an error
REPLY_TTL_S = 120  # a reply list nobody reads any more expires


def queue_key(variant_id: str) -> str:
    return f"{PREFIX}:queue:{variant_id}"


def celery_queue(variant_id: str) -> str:
    """The Celery queue an instance's worker consumes (control and the plain task path)."""
    return f"sb.serving.{variant_id}"


def instances_key(variant_id: str) -> str:
    """Hash: instance name -> heartbeat (JSON), written by each instance every second."""
    return f"{PREFIX}:instances:{variant_id}"


def activities_key(variant_id: str) -> str:
    """List of the variant's scaling activities, newest first (JSON each)."""
    return f"{PREFIX}:activities:{variant_id}"


def stats_key(variant_id: str, minute: int) -> str:
    """Hash of one minute's counters for one variant (invocations, errors, latency sums)."""
    return f"{PREFIX}:stats:{variant_id}:{minute}"


def watcher_key(watcher: str) -> str:
    """A key only ``watcher`` (a supervisor) writes: gone, Redis lost what it held."""
    return f"{PREFIX}:watcher:{watcher}"


def reply_key(client_id: str) -> str:
    return f"{PREFIX}:reply:{client_id}"


@dataclass(frozen=True)
class Request:
    request_id: str
    body: bytes
    content_type: str
    accept: str
    reply_to: str
    sent_at: float  # epoch seconds, when the caller queued it
    deadline: float  # epoch seconds; past it, the caller has given up
    custom_attributes: str = ""
    attempt: int = 1

    def fields(self) -> dict[str, bytes | str | int | float]:
        return {
            "id": self.request_id,
            "b": self.body,
            "ct": self.content_type,
            "ac": self.accept,
            "r": self.reply_to,
            "t": repr(self.sent_at),
            "dl": repr(self.deadline),
            "ca": self.custom_attributes,
            "n": self.attempt,
        }

    @classmethod
    def from_fields(cls, fields: dict[bytes, bytes]) -> Request:
        return cls(
            request_id=fields[b"id"].decode(),
            body=fields[b"b"],
            content_type=fields[b"ct"].decode(),
            accept=fields[b"ac"].decode(),
            reply_to=fields[b"r"].decode(),
            sent_at=float(fields[b"t"]),
            deadline=float(fields[b"dl"]),
            custom_attributes=fields.get(b"ca", b"").decode(),
            attempt=int(fields.get(b"n", b"1")),
        )


# Why a request got no model output; the web side maps each to the runtime's error.
MODEL_ERROR = "model"  # the model raised: ModelError (424) with its message
TIMED_OUT = "timeout"  # no answer before the deadline
WORKER_LOST = "lost"  # the instances serving it died MAX_ATTEMPTS times


@dataclass(frozen=True)
class Reply:
    request_id: str
    body: bytes = b""
    content_type: str = ""
    custom_attributes: str = ""
    error: str = ""  # "" or one of MODEL_ERROR, TIMED_OUT, WORKER_LOST
    message: str = ""
    status: int = 200  # the model's answer as HTTP would give it (400/500 with MODEL_ERROR)
    instance: str = ""

    @property
    def ok(self) -> bool:
        return not self.error

    def encode(self) -> bytes:
        header = {"id": self.request_id, "ct": self.content_type}
        if self.custom_attributes:
            header["ca"] = self.custom_attributes
        if self.error:
            header["e"] = self.error
            header["m"] = self.message
            header["s"] = self.status
        if self.instance:
            header["i"] = self.instance
        return orjson.dumps(header) + b"\n" + self.body

    @classmethod
    def decode(cls, data: bytes) -> Reply:
        head, _, body = data.partition(b"\n")
        header = orjson.loads(head)
        return cls(
            request_id=header["id"],
            body=body,
            content_type=header.get("ct", ""),
            custom_attributes=header.get("ca", ""),
            error=header.get("e", ""),
            message=header.get("m", ""),
            status=header.get("s", 200),
            instance=header.get("i", ""),
        )
