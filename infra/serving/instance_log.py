"""An endpoint instance's log: what the instance process logs and prints, kept in Redis, where
the platform reads it as the endpoint's log stream (``/aws/sagemaker/Endpoints/<endpoint>``).

Each instance appends to its own Redis stream, which keeps its last ``MAX_LINES`` lines and
expires ``LOG_TTL_S`` after its last line; the variant's index names the instances that have
logged, with when each began. Instances run on any host that reaches the broker, so Redis, not a
file, is where the platform can read them all. A line costs the serving loop no round trip:
records are buffered in memory (bounded) and written by a background thread.
"""

from __future__ import annotations

import logging
import threading
from collections import deque

import redis

from infra.serving.protocol import PREFIX

MAX_LINES = 10_000  # kept per instance, the oldest dropped first
MAX_LINE_CHARS = 8192
LOG_TTL_S = 7 * 24 * 3600
FLUSH_S = 0.5
MAX_BUFFERED = 10_000  # lines waiting for Redis; past it (Redis away) the oldest are dropped
# Print()s of the model's code reach the log through this logger (Celery redirects a worker's
# stdout and stderr to it); they are kept as printed, other records with level and logger.
REDIRECTED = "celery.redirected"


def log_key(variant_id: str, instance: str) -> str:
    return f"{PREFIX}:log:{variant_id}:{instance}"


def log_index_key(variant_id: str) -> str:
    """Hash: instance name -> epoch ms of its first line."""
    return f"{PREFIX}:logs:{variant_id}"


class InstanceLogHandler(logging.Handler):
    """Keeps the records it is given as the instance's log lines; ``close()`` writes the rest."""

    def __init__(
        self, client: redis.Redis, *, variant_id: str, instance: str, flush_s: float = FLUSH_S
    ) -> None:
        super().__init__()
        self.client = client
        self.variant_id = variant_id
        self.instance = instance
        self._pending: deque[tuple[int, str]] = deque(maxlen=MAX_BUFFERED)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._flush_forever, args=(flush_s,), daemon=True, name="instance-log"
        )
        self._thread.start()

    def format(self, record: logging.LogRecord) -> str:
        if record.name == REDIRECTED:
            return record.getMessage()
        text = f"{record.levelname} {record.name}: {record.getMessage()}"
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        return text

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:
            self.handleError(record)
            return
        at = int(record.created * 1000)
        for line in text.splitlines():
            self._pending.append((at, line[:MAX_LINE_CHARS]))

    def flush(self) -> None:
        lines = []
        while self._pending:
            lines.append(self._pending.popleft())
        if not lines:
            return
        key, index = log_key(self.variant_id, self.instance), log_index_key(self.variant_id)
        pipe = self.client.pipeline(transaction=False)
        pipe.hsetnx(index, self.instance, lines[0][0])
        for at, line in lines:
            pipe.xadd(key, {"t": at, "m": line}, maxlen=MAX_LINES, approximate=True)
        pipe.expire(key, LOG_TTL_S)
        pipe.expire(index, LOG_TTL_S)
        try:
            pipe.execute()
        except redis.RedisError:
            # Kept for the next try; logging it here would only come back to this handler.
            self._pending.extendleft(reversed(lines))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.flush()
        super().close()

    def _flush_forever(self, every: float) -> None:
        while not self._stop.wait(every):
            self.flush()


def instance_logs(client: redis.Redis, variant_id: str) -> dict[str, int]:
    """The variant's instances that have logged, each with the epoch ms of its first line."""
    return {
        name.decode(): int(first)
        for name, first in client.hgetall(log_index_key(variant_id)).items()
    }


def instance_log_lines(
    client: redis.Redis, variant_id: str, instance: str
) -> list[tuple[int, str]]:
    """The instance's kept lines, in order, each with its epoch ms."""
    return [
        (int(fields[b"t"]), fields[b"m"].decode(errors="replace"))
        for _, fields in client.xrange(log_key(variant_id, instance))
    ]
