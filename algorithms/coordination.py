"""One model trained on several Dask workers that decide together after every iteration.

Each worker trains on the rows it holds. After every iteration it sends this process a
``Report`` (its results) and waits for the decision: go on, stop (an early-stopping or a user's
stop request), or abort. This process gathers one report per machine, reports the global metrics,
decides once for everyone and answers each worker, so no machine ever stops alone and leaves the
others waiting in a collective call.

An instance whose worker leaves the cluster mid-training (killed, crashed, shut down) ends the
training at once with :class:`InstanceLost` naming it: the scheduler's ``remove-worker`` event for
that worker wakes this process, which tells the other workers to end. Without it the others would
wait for the lost one's report, or fail in a collective call with a socket error naming no one.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from distributed import Client, Future, Queue, get_client, get_worker

# How long a worker waits for this process's word after an iteration before giving up; far
# beyond the moment it takes, so that only a vanished coordinator trips it. (A vanished worker is
# noticed from the scheduler's events instead, without waiting.)
DECISION_TIMEOUT_S = 1800
CONTINUE, ABORT, DONE = "continue", "abort", "done"

T = TypeVar("T")


@dataclass(frozen=True)
class Report:
    iteration: int  # 0-based, as the libraries count
    machines: int  # how many reports make the iteration whole
    reply_to: str  # the worker's queue
    results: Any  # what the coordinator combines: the worker's own metric values


class InstanceLost(RuntimeError):
    """An instance's Dask worker left the cluster while the instances trained together."""


@dataclass(frozen=True)
class _Lost:
    worker: str  # the address of the worker that left
    expected: bool  # shut down by its cluster, rather than died


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


def run_coordinated(
    fit: Callable[[], T], coordinator: Coordinator, *, token: str, workers: Sequence[str]
) -> T:
    """``fit()`` (which starts the workers, each with a ``WorkerLink(token)``) in a thread while
    this thread serves their reports to ``coordinator``; returns what ``fit`` returned.

    ``workers`` are the addresses the instances train on, instance ``n`` on ``workers[n - 1]``:
    if one of them leaves the cluster before ``fit`` has returned, :class:`InstanceLost` names
    its instances."""
    reports = Queue(f"{token}-reports", client=coordinator.client)
    watch = _WorkerWatch(coordinator.client, workers, reports)
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = fit()
        except BaseException as error:  # re-raised in the calling thread
            outcome["error"] = error
        finally:
            reports.put(DONE)

    thread = threading.Thread(target=run, name="coordinated-fit", daemon=True)
    try:
        if lost := watch.gone():  # before its event was subscribed to
            raise watch.error(lost)
        thread.start()
        _serve(reports, coordinator.receive, lost=watch.raise_lost)
    except BaseException as error:
        # This thread failed (the reporter, a lost instance): every worker waiting for a decision
        # is told to end, and the library's gather raises the first one's error. A lost instance's
        # task waits for a worker that is gone: the client's tasks are cancelled for it.
        coordinator.abort()
        if isinstance(error, InstanceLost):
            watch.cancel_tasks(error)
        if thread.ident is not None:  # started: it ends with DONE
            _serve(reports, coordinator.refuse, lost=lambda _: None)
        raise
    finally:
        if thread.ident is not None:
            thread.join()
        watch.close()
        coordinator.close()
        reports.close()
    if "error" in outcome:
        # The survivors of a lost instance often fail first, in the library's collective calls.
        lost = watch.gone()
        if lost is not None:
            raise watch.error(lost) from outcome["error"]
        raise outcome["error"]
    return outcome["value"]


def _serve(
    reports: Any, handle: Callable[[Report], None], *, lost: Callable[[_Lost], None]
) -> None:
    """Hand each worker's report to ``handle``, and each lost worker to ``lost``, until training
    has ended."""
    # No timeout: a timed-out get is logged as an error by the scheduler.
    while (item := reports.get()) != DONE:
        if isinstance(item, _Lost):
            lost(item)
        else:
            handle(item)


class _WorkerWatch:
    """The instances' workers watched through the scheduler's events: a ``remove-worker`` event
    for one of them puts a :class:`_Lost` on the reports queue, waking the coordinating thread."""

    def __init__(self, client: Client, workers: Sequence[str], reports: Any) -> None:
        self.client = client
        self.instances: dict[str, list[str]] = defaultdict(list)  # worker -> its instances
        for number, worker in enumerate(workers, start=1):
            self.instances[worker].append(f"algo-{number}")
        self.reports = reports
        self.lost: dict[str, _Lost] = {}
        for worker in self.instances:
            client.subscribe_topic(worker, partial(self._on_event, worker))

    async def _on_event(self, worker: str, event: tuple[float, dict[str, Any]]) -> None:
        """On the client's event loop: the scheduler's events about ``worker``."""
        _, message = event
        if message.get("action") != "remove-worker" or worker in self.lost:
            return
        lost = _Lost(worker, expected=bool(message.get("expected")))
        self.lost[worker] = lost
        await self.reports.put(lost, asynchronous=True)

    def error(self, lost: _Lost) -> InstanceLost:
        how = "was shut down" if lost.expected else "died"
        names = self.instances[lost.worker]
        return InstanceLost(
            f"{' and '.join(names)} {'were' if len(names) > 1 else 'was'} lost: "
            f"its worker {how} ({lost.worker} left the Dask cluster)"
        )

    def raise_lost(self, lost: _Lost) -> None:
        raise self.error(lost)

    def gone(self) -> _Lost | None:
        """The first of the instances' workers known to have left, whether or not its event has
        arrived yet."""
        if self.lost:
            return next(iter(self.lost.values()))
        present = self.client.scheduler_info(n_workers=-1)["workers"]
        gone = [worker for worker in self.instances if worker not in present]
        return _Lost(gone[0], expected=False) if gone else None

    def cancel_tasks(self, error: InstanceLost) -> None:
        """Cancel the client's tasks: the lost instance's was bound to its worker and can run
        nowhere now, and a library gathering it (or waiting for its machine to connect, where the
        other workers are not yet asking this process) waits no longer."""
        futures = [Future(key, self.client) for key in list(self.client.futures)]
        self.client.cancel(futures, reason="instance lost", msg=str(error))

    def close(self) -> None:
        for worker in self.instances:
            self.client.unsubscribe_topic(worker)
