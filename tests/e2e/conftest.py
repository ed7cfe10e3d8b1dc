"""The end-to-end tests' own data. The stack itself is ``tests.stack``."""

from __future__ import annotations

import pytest

from tests.stack import training_bucket


@pytest.fixture(scope="module")
def tuning_bucket(stack) -> str:
    """The tuning jobs' data. Large enough that a slow learner's 5,000 rounds take about 20 s
    here: the median rule acts within a few seconds (metrics flush, the flow's poll, the trial's
    stop check), and a trial that ends before then cannot be stopped. With 1,500 rows and 4,000
    rounds one ended in time."""
    return training_bucket(stack, "tune", train=8000, validation=500, seed=3)
