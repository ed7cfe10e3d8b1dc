"""Hyperband (Li et al., 2018): successive-halving brackets over a resource such as ``epochs``.

With ``R = MaxResource / MinResource`` and ``eta = 3``, there are ``s_max + 1`` brackets,
``s_max = floor(log_eta R)``. Bracket ``s`` starts ``n = ceil((s_max + 1) / (s + 1) * eta^s)``
configurations at resource ``MaxResource * eta^-s``; each rung keeps the best ``floor(n_i / eta)``
(at least one) and multiplies their resource by ``eta``, up to ``MaxResource``.

:class:`Hyperband` is the schedule a tuning flow drives: ``next_jobs()`` gives the jobs that can
start now (a configuration plus its resource as a string hyperparameter), ``report(job, value)``
records a result, and a rung promotes its best configurations once all of its jobs reported.
Brackets run side by side, so parallel slots stay busy; a failed job ranks last.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from algorithms.tuning.errors import TrialStateError, TuningValidationError

MAX_RESOURCE_LIMIT = 20_000


@dataclass(frozen=True)
class Rung:
    num_configurations: int
    resource: int


@dataclass(frozen=True)
class Bracket:
    index: int  # s: the most exploratory bracket has the largest index
    rungs: tuple[Rung, ...]


def hyperband_brackets(*, min_resource: int, max_resource: int, eta: int = 3) -> list[Bracket]:
    """The brackets of one Hyperband iteration, most exploratory first."""
    field_ = "HyperParameterTuningJobConfig.StrategyConfig.HyperbandStrategyConfig"
    if min_resource < 1:
        raise TuningValidationError(f"{field_}.MinResource", "must be at least 1")
    if not min_resource <= max_resource <= MAX_RESOURCE_LIMIT:
        raise TuningValidationError(
            f"{field_}.MaxResource", f"must lie between MinResource and {MAX_RESOURCE_LIMIT}"
        )
    if eta < 2:
        raise ValueError("eta must be at least 2")
    # The small epsilon keeps exact powers (R = 27, eta = 3) from flooring one bracket short.
    s_max = math.floor(math.log(max_resource / min_resource) / math.log(eta) + 1e-9)
    brackets = []
    for s in range(s_max, -1, -1):
        n = math.ceil((s_max + 1) / (s + 1) * eta**s)
        rungs = tuple(
            Rung(
                num_configurations=max(n // eta**i, 1),
                resource=min(max_resource, round(max_resource * eta ** (i - s))),
            )
            for i in range(s + 1)
        )
        brackets.append(Bracket(index=s, rungs=rungs))
    return brackets


@dataclass(frozen=True)
class HyperbandJob:
    id: int
    bracket: int
    rung: int
    configuration: int  # index of the configuration within its bracket
    hyperparameters: dict[str, str]  # tuned hyperparameters plus the resource


@dataclass
class _RungState:
    jobs: list[HyperbandJob] = field(default_factory=list)
    results: dict[int, float | None] = field(default_factory=dict)  # job id -> value


class Hyperband:
    """A Hyperband schedule over configurations from ``sample(n)`` (e.g. ``Tuner.suggest``)."""

    def __init__(
        self,
        sample: Callable[[int], list[dict[str, str]]],
        *,
        min_resource: int,
        max_resource: int,
        objective_type: str = "Maximize",
        resource_name: str = "epochs",
        eta: int = 3,
    ) -> None:
        self.brackets = hyperband_brackets(
            min_resource=min_resource, max_resource=max_resource, eta=eta
        )
        self.resource_name = resource_name
        self.objective_type = objective_type
        self.eta = eta
        self._sample = sample
        self._rungs: dict[tuple[int, int], _RungState] = {}
        self._jobs: dict[int, HyperbandJob] = {}
        self._queue: list[HyperbandJob] = []
        for bracket in self.brackets:
            first = bracket.rungs[0]
            configurations = sample(first.num_configurations)
            state = self._rungs.setdefault((bracket.index, 0), _RungState())
            for c, hyperparameters in enumerate(configurations):
                job = self._new_job(bracket.index, 0, c, hyperparameters, first.resource)
                state.jobs.append(job)
                self._queue.append(job)

    def next_jobs(self, limit: int | None = None) -> list[HyperbandJob]:
        """Jobs ready to launch now (each handed out once), at most ``limit`` of them."""
        count = len(self._queue) if limit is None else min(limit, len(self._queue))
        ready, self._queue = self._queue[:count], self._queue[count:]
        return ready

    def report(self, job: HyperbandJob | int, value: float | None) -> None:
        """Record a job's objective (``None`` when it failed); may queue the next rung's jobs."""
        job = self._jobs[job if isinstance(job, int) else job.id]
        state = self._rungs[(job.bracket, job.rung)]
        if job.id in state.results:
            raise TrialStateError(f"Hyperband job {job.id} already reported")
        state.results[job.id] = value
        if len(state.results) == len(state.jobs):
            self._promote(job.bracket, job.rung)

    @property
    def queued(self) -> int:
        """How many jobs are ready to launch now."""
        return len(self._queue)

    @property
    def finished(self) -> bool:
        """Whether every rung of every bracket has all its results."""
        return all(
            (b.index, len(b.rungs) - 1) in self._rungs
            and len(self._rungs[(b.index, len(b.rungs) - 1)].results)
            == len(self._rungs[(b.index, len(b.rungs) - 1)].jobs)
            for b in self.brackets
        )

    def _promote(self, bracket_index: int, rung_index: int) -> None:
        bracket = next(b for b in self.brackets if b.index == bracket_index)
        if rung_index + 1 >= len(bracket.rungs):
            return
        state = self._rungs[(bracket_index, rung_index)]
        sign = -1.0 if self.objective_type == "Maximize" else 1.0

        def rank(job: HyperbandJob) -> tuple[bool, float]:
            value = state.results[job.id]
            return (value is None or math.isnan(value), sign * (value or 0.0))

        survivors = sorted(state.jobs, key=rank)[: bracket.rungs[rung_index + 1].num_configurations]
        next_rung = bracket.rungs[rung_index + 1]
        next_state = self._rungs.setdefault((bracket_index, rung_index + 1), _RungState())
        for parent in survivors:
            tuned = {k: v for k, v in parent.hyperparameters.items() if k != self.resource_name}
            job = self._new_job(
                bracket_index, rung_index + 1, parent.configuration, tuned, next_rung.resource
            )
            next_state.jobs.append(job)
            self._queue.append(job)

    def _new_job(
        self, bracket: int, rung: int, configuration: int, tuned: dict[str, str], resource: int
    ) -> HyperbandJob:
        job = HyperbandJob(
            id=len(self._jobs),
            bracket=bracket,
            rung=rung,
            configuration=configuration,
            hyperparameters={**tuned, self.resource_name: str(resource)},
        )
        self._jobs[job.id] = job
        return job
