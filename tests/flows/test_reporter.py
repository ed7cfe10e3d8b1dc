"""The job reporter: metrics and log lines batched to the record service, and when to stop."""

from __future__ import annotations

import pytest

from flows.jobs import LOG_LINE_LIMIT
from flows.reporter import JobReporter
from tests.flows.test_jobs import Console, Row


def reporter(console: Console, *, max_runtime: float = 3600) -> JobReporter:
    return JobReporter(
        console.kind(), 1, max_runtime=max_runtime, stop_message="Stop requested: ending"
    )


def test_lines_and_metrics_are_written_in_batches_and_what_is_left_on_exit():
    console = Console({1: Row(1, "InProgress")})
    with reporter(console) as job:
        job.log("first")  # the first report is written at once
        job.metric("loss", 0.5, step=1)
        job.log("second\n" + "x" * (LOG_LINE_LIMIT + 10))
        assert console.calls == [("record", 1, ["first"])]
    assert console.calls[1] == ("record", 1, ["second", "x" * LOG_LINE_LIMIT])
    assert job.last_values == {"loss": 0.5}


def test_a_stop_request_stops_the_work_saying_so():
    console = Console({1: Row(1, "InProgress")})
    with reporter(console) as job:
        assert not job.should_stop()
        console.rows[1].status = "Stopping"
        job._stop_requested._checked_at = float("-inf")  # as if a second had passed
        assert job.should_stop()
    assert job.stopped_by == "Stopped"
    assert "Stop requested: ending" in console.calls[-1][2]


def test_max_runtime_stops_the_work_saying_which_limit():
    console = Console({1: Row(1, "InProgress")})
    with reporter(console, max_runtime=0) as job:
        assert job.should_stop()
    assert job.stopped_by == "MaxRuntimeExceeded"
    assert "MaxRuntimeInSeconds exceeded: stopping the test job" in console.calls[-1][2]


def test_a_kind_without_a_log_has_no_reporter():
    with pytest.raises(ValueError, match="keep no log"):
        JobReporter(Console().kind(record=False), 1, max_runtime=1, stop_message="")
