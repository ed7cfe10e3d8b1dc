"""ModelClientConfig: a timeout per call, retries for failures, none for bad data."""

import time

import pytest

from algorithms.base import DataError, Model
from batch.invoke import InvocationFailed, invoke


class SumModel(Model):
    """Answers each CSV line with the sum of its values; fails its first ``failures`` calls."""

    def __init__(self, *, failures: int = 0, delay: float = 0.0) -> None:
        self.calls = 0
        self.failures = failures
        self.delay = delay

    def invoke(self, body: bytes, content_type: str, accept: str) -> bytes:
        self.calls += 1
        time.sleep(self.delay)
        if self.calls <= self.failures:
            raise ConnectionError("container went away")
        lines = []
        for number, line in enumerate(body.decode().split("\n"), start=1):
            if line.strip():
                try:
                    lines.append(f"{sum(float(v) for v in line.split(','))}\n")
                except ValueError:
                    raise DataError("not a number", line=number) from None
        return "".join(lines).encode()


def call(model: Model, body: bytes, **config) -> bytes:
    config = {"timeout_s": 5.0, "max_retries": 3, **config}
    return invoke(model, body, content_type="text/csv", accept="text/csv", **config)


def test_a_call_that_fails_is_retried_up_to_the_limit():
    model = SumModel(failures=2)
    assert call(model, b"1,2\n3,4\n", max_retries=2) == b"3.0\n7.0\n"
    assert model.calls == 3


def test_when_every_attempt_fails_the_error_says_how_and_how_often():
    model = SumModel(failures=10)
    with pytest.raises(InvocationFailed, match=r"ConnectionError.*tried 2 times"):
        call(model, b"1\n", max_retries=1)
    assert model.calls == 2


def test_bad_data_is_raised_at_once_not_retried():
    model = SumModel()
    with pytest.raises(DataError) as error:
        call(model, b"1,2\nx,3\n")
    assert error.value.line == 2
    assert model.calls == 1


def test_a_call_over_the_timeout_is_abandoned_and_retried():
    model = SumModel(delay=0.3)
    with pytest.raises(InvocationFailed, match=r"did not answer within 0\.05 s"):
        call(model, b"1\n", timeout_s=0.05, max_retries=1)
    assert model.calls == 2
