"""One model trained on several Dask workers that decide together after every iteration.

Each worker trains on the rows it holds. After every iteration it sends this process a
``Report`` (its results) and waits for the decision: go on, stop (an early-stopping or a user's
stop request), or abort. This process gathers one report per machine, reports the global metrics,
decides once for everyone and answers each worker, so no machine ever stops alone and leaves the
others waiting in a collective call.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from distributed import Client, Queue, get_client, get_worker

# How long a worker waits for this process's word after an iteration before giving up; far
# beyond the moment it takes, so that only a vanished coordinator trips it.
DECISION_TIMEOUT_S = 1800
CONTINUE, ABORT, DONE = "continue", "abort", "done"

T = TypeVar("T")


@dataclass(frozen=True)
class Report:
    iteration: int  # 0-based, as the libraries count
    machines: int  # how many reports make the iteration whole
    reply_to: str  # the worker's queue
    results: Any  # what the coordinator combines: the worker's own metric values


class WorkerLink:
    """On a worker: send the iteration's report and wait for the coordinator's decision."""

    def __init__(self, token: str) -> None:
        self.token = token
        self._queues: tuple[Any, Any] | None = None

    def ask(self, iteration: int, machines: int, results: Any) -> Any:
        if self._queues is None:
            client = get_client()
            self._queues = (
                Queue(f"{self.token}-reports", client=client),
                Queue(f"{self.token}-{get_worker().address}", client=client),
            )
        reports, replies = self._queues
        reports.put(Report(iteration, machines, replies.name, results))
        decision = replies.get(timeout=DECISION_TIMEOUT_S)
        if decision == ABORT:
            raise RuntimeError("training was ended by the coordinating process")
        return decision

    def __getstate__(self) -> dict[str, Any]:  # queues are per process: made again on arrival
        return {"token": self.token, "_queues": None}


class Coordinator(ABC):
    """Gathers each iteration's reports and answers every machine with one decision."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.pending: dict[int, list[Report]] = defaultdict(list)
        self.replies: dict[str, Any] = {}

    @abstractmethod
    def decide(self, iteration: int, reports: list[Report]) -> Any:
        """The decision for ``iteration``, every machine's report in hand: ``CONTINUE`` or what
        the workers understand as stop."""

    def receive(self, report: Report) -> None:
        reports = self.pending[report.iteration]
        reports.append(report)
        if len(reports) < report.machines:
            return
        decision = self.decide(report.iteration, reports)
        for each in reports:
            self._reply(each, decision)
        del self.pending[report.iteration]

    def abort(self) -> None:
        """Tell the workers waiting for a decision to end."""
        for reports in self.pending.values():
            for report in reports:
                self._reply(report, ABORT)
        self.pending.clear()

    def refuse(self, report: Report) -> None:
        """After :meth:`abort`: whoever reports next is told to end too."""
        self._reply(report, ABORT)

    def _reply(self, report: Report, decision: Any) -> None:
        if report.reply_to not in self.replies:
            self.replies[report.reply_to] = Queue(report.reply_to, client=self.client)
        self.replies[report.reply_to].put(decision)

    def close(self) -> None:
        for queue in self.replies.values():
            queue.close()


def run_coordinated(fit: Callable[[], T], coordinator: Coordinator, *, token: str) -> T:
    """``fit()`` (which starts the workers, each with a ``WorkerLink(token)``) in a thread while
    this thread serves their reports to ``coordinator``; returns what ``fit`` returned."""
    reports = Queue(f"{token}-reports", client=coordinator.client)
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = fit()
        except BaseException as error:  # re-raised in the calling thread
            outcome["error"] = error
        finally:
            reports.put(DONE)

    thread = threading.Thread(target=run, name="coordinated-fit", daemon=True)
    thread.start()
    try:
        _serve(reports, coordinator.receive)
    except BaseException:
        # This thread failed (the reporter, say): every worker still training is told to end.
        coordinator.abort()
        _serve(reports, coordinator.refuse)
        raise
    finally:
        thread.join()
        coordinator.close()
        reports.close()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _serve(reports: Any, handle: Callable[[Report], None]) -> None:
    """Hand each worker's report to ``handle`` until training has ended."""
    # No timeout: a timed-out get is logged as an error by the scheduler.
    while (report := reports.get()) != DONE:
        handle(report)
