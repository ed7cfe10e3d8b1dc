"""The reporter a job's code writes to: metrics and log lines batched into the job's row, and
whether to stop (a Stop* call, or MaxRuntimeInSeconds passed).

For every kind that keeps a log (its ``JobKind.record``): training jobs today.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from flows.jobs import JobKind, StopPoll, log_lines

FLUSH_SECONDS = 1.0


class JobReporter:
    """The algorithm's :class:`Reporter` for one job: writes its metrics and log lines at most
    once a second, and turns ``should_stop`` true on the job's Stop* call (logging
    ``stop_message``) or once ``max_runtime`` seconds have passed.

    Used as a context manager, it writes what is left when the work ends, however it ends.
    """

    def __init__(
        self, kind: JobKind, job_id: int, *, max_runtime: float, stop_message: str
    ) -> None:
        if kind.record is None:
            raise ValueError(f"{kind.noun}s keep no log to report to")
        self.kind = kind
        self.job_id = job_id
        self.deadline = time.monotonic() + max_runtime
        self.stop_message = stop_message
        self.stopped_by: str | None = None
        self.last_values: dict[str, float] = {}
        self._stop_requested = StopPoll(kind, job_id)
        self._metrics: list[tuple[str, int | None, float, datetime]] = []
        self._lines: list[str] = []
        self._lock = threading.Lock()  # script mode logs from its reader thread
        self._next_flush = 0.0

    def __enter__(self) -> JobReporter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.flush()

    def metric(self, name: str, value: float, *, step: int | None = None) -> None:
        with self._lock:
            self._metrics.append((name, step, float(value), datetime.now(UTC)))
            self.last_values[name] = float(value)
        self._flush_due()

    def log(self, message: str) -> None:
        with self._lock:
            self._lines.extend(log_lines(message))
        self._flush_due()

    def should_stop(self) -> bool:
        if self.stopped_by is not None:
            return True
        if time.monotonic() >= self.deadline:
            self.stopped_by = "MaxRuntimeExceeded"
            self.log(f"MaxRuntimeInSeconds exceeded: stopping the {self.kind.noun.lower()}")
        elif self._stop_requested():
            self.stopped_by = "Stopped"
            self.log(self.stop_message)
        return self.stopped_by is not None

    def flush(self) -> None:
        with self._lock:
            metrics, lines = self._metrics, self._lines
            self._metrics, self._lines = [], []
            self._next_flush = time.monotonic() + FLUSH_SECONDS
        if metrics or lines:
            self.kind.record(job_id=self.job_id, metrics=metrics, log_lines=lines)

    def _flush_due(self) -> None:
        if time.monotonic() >= self._next_flush:
            self.flush()
