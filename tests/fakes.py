"""Stand-ins the suites share for what the platform hands to the code under test."""

from __future__ import annotations


class QuietReporter:
    """A real ``algorithms.base.Reporter`` that drops every call and never asks the run to stop."""

    def metric(self, name: str, value: float, *, step: int | None = None) -> None:
        pass

    def log(self, message: str) -> None:
        pass

    def should_stop(self) -> bool:
        return False


class RecordingReporter:
    """A real ``algorithms.base.Reporter`` that keeps every call.

    It asks the run to stop once any limit it was given is reached: ``stop_after_checks`` calls of
    ``should_stop``, ``stop_after_metrics`` metrics, ``stop_after_epochs`` epochs that reported
    ``train:loss``, or ``stop_when_logged`` logged as a line. Without one it never asks.
    """

    def __init__(
        self,
        *,
        stop_after_checks: int | None = None,
        stop_after_metrics: int | None = None,
        stop_after_epochs: int | None = None,
        stop_when_logged: str | None = None,
    ) -> None:
        self.metrics: list[tuple[str, float, int | None]] = []
        self.lines: list[str] = []
        self.checks = 0
        self._stop_after_checks = stop_after_checks
        self._stop_after_metrics = stop_after_metrics
        self._stop_after_epochs = stop_after_epochs
        self._stop_when_logged = stop_when_logged

    def metric(self, name: str, value: float, *, step: int | None = None) -> None:
        self.metrics.append((name, value, step))

    def log(self, message: str) -> None:
        self.lines.append(message)

    def should_stop(self) -> bool:
        self.checks += 1
        epochs = len(set(self.steps("train:loss")))
        return (
            _reached(self.checks, self._stop_after_checks)
            or _reached(len(self.metrics), self._stop_after_metrics)
            or _reached(epochs, self._stop_after_epochs)
            or (self._stop_when_logged is not None and self._stop_when_logged in self.lines)
        )

    def names(self) -> set[str]:
        return {name for name, _, _ in self.metrics}

    def steps(self, name: str) -> list[int | None]:
        return [step for metric, _, step in self.metrics if metric == name]

    def series(self, name: str) -> list[tuple[int | None, float]]:
        return [(step, value) for metric, value, step in self.metrics if metric == name]


def _reached(count: int, limit: int | None) -> bool:
    return limit is not None and count >= limit
