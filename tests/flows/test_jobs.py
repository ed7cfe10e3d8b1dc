"""The job runner every job flow uses: its status gate, its failure capture and its stop poll,
against a kind whose selectors and services are a dictionary of rows."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from flows.jobs import JobKind, StopPoll, run_job


@dataclass
class Row:
    pk: int
    status: str
    name: str = "job"
    ACTIVE_STATUSES: tuple[str, ...] = ("InProgress", "Stopping")


@dataclass
class Console:
    """The kind's rows, and what its services were asked to do."""

    rows: dict[int, Row] = field(default_factory=dict)
    calls: list[tuple] = field(default_factory=list)
    stop_reads: int = 0

    def kind(self, *, record: bool = True) -> JobKind:
        return JobKind(
            noun="Test job",
            get=lambda *, job_id: self.rows[job_id],
            stop_requested=self.stop_requested,
            end_stopped=self.end_stopped,
            fail=self.fail,
            client_errors=(ValueError,),
            fault="AlgorithmError",
            record=self.record if record else None,
        )

    def stop_requested(self, *, job_id: int) -> bool:
        self.stop_reads += 1
        return self.rows[job_id].status == "Stopping"

    def end_stopped(self, *, job_id: int) -> None:
        self.calls.append(("end_stopped", job_id))
        self.rows[job_id].status = "Stopped"

    def fail(self, *, job_id: int, reason: str) -> None:
        self.calls.append(("fail", job_id, reason))
        self.rows[job_id].status = "Failed"

    def record(self, *, job_id: int, metrics=(), log_lines=()) -> None:
        self.calls.append(("record", job_id, list(log_lines)))

    def finish(self, job_id: int, result: str) -> None:
        self.calls.append(("finish", job_id, result))
        self.rows[job_id].status = "Completed"


def test_a_running_job_works_then_finishes_with_what_the_work_returned():
    console = Console({1: Row(1, "InProgress")})
    seen = []

    def work(job: Row) -> str:
        seen.append(job.pk)
        return "model"

    assert run_job(console.kind(), 1, work=work, finish=console.finish) == "Completed"
    assert seen == [1]
    assert console.calls == [("finish", 1, "model")]


def test_a_job_stopped_before_its_run_began_ends_stopped_without_working():
    console = Console({1: Row(1, "Stopping")})

    assert run_job(console.kind(), 1, work=pytest.fail, finish=console.finish) == "Stopped"
    assert console.calls == [("end_stopped", 1)]


def test_a_job_that_ended_already_is_left_as_it_is():
    console = Console({1: Row(1, "Failed")})

    assert run_job(console.kind(), 1, work=pytest.fail, finish=console.finish) == "Failed"
    assert console.calls == []


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (ValueError("line 7: not a number"), "ClientError: line 7: not a number"),
        (KeyError("weights"), "AlgorithmError: KeyError: 'weights'"),
        (RuntimeError(), "AlgorithmError: RuntimeError()"),
    ],
)
def test_a_failure_becomes_the_reason_the_job_failed_and_the_last_line_of_its_log(error, reason):
    console = Console({1: Row(1, "InProgress")})

    def work(job: Row) -> str:
        raise error

    assert run_job(console.kind(), 1, work=work, finish=console.finish) == "Failed"
    assert console.calls == [("record", 1, [reason]), ("fail", 1, reason)]


def test_a_kind_without_a_log_fails_through_its_service_alone():
    console = Console({1: Row(1, "InProgress")})

    def work(job: Row) -> str:
        raise ValueError("gone\nfor good")

    run_job(console.kind(record=False), 1, work=work, finish=console.finish)
    assert console.calls == [("fail", 1, "ClientError: gone\nfor good")]


def test_the_stop_poll_reads_the_row_at_most_every_interval_and_not_after_a_request():
    console = Console({1: Row(1, "InProgress")})
    poll = StopPoll(console.kind(), 1, every=3600)

    assert not poll()
    console.rows[1].status = "Stopping"
    assert not poll()  # within the interval: not read
    assert console.stop_reads == 1
    poll._checked_at -= 3600  # as if the interval had passed
    assert poll() and poll()
    assert console.stop_reads == 2
