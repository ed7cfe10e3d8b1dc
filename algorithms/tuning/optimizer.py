"""The ask/tell tuner a tuning job drives: ``suggest(n)`` → run training jobs → ``observe(...)``.

One :class:`Tuner` per tuning job. It keeps every configuration it has handed out (pending until
observed), so it never suggests a configuration that is running, done or failed, and it respects
``MaxNumberOfTrainingJobs``. Objective values are given in the user's sense (``Maximize`` or
``Minimize``); internally everything is minimised. Failed trials are remembered only so that they
are not retried: they carry no value, and imputing one would bias the model toward or away from
configurations that fail for unrelated reasons (a lost instance, a full disk). The same seed and
the same sequence of calls give the same suggestions.

The Bayesian design, and why (each piece lives in the module named):

- ``space``: every parameter maps to [0, 1] on its scale (log, reverse-log, integers by cells,
  categoricals one-hot), so one isotropic prior and one optimiser serve every space.
- ``strategies``: the first ``clamp(d + 1, 5, 10)`` trials come from a scrambled Sobol design
  (``d`` = encoded dimensions): enough points for the GP's lengthscales to mean something, few
  enough that a 50-trial budget is mostly model-guided. Then, per batch: fit, and choose points
  one at a time against a posterior conditioned on every running or already-chosen point at its
  posterior mean (kriging believer), which spreads parallel suggestions deterministically.
- ``gp``: GPyTorch exact GP, Matérn-5/2 ARD, dimension-scaled log-normal lengthscale prior,
  LogNormal(-4, 1) noise prior, outputs warped (shift, robust scale, Yeo-Johnson, standardise)
  to tame heavy tails; MAP by L-BFGS-B, warm-started from the previous fit, float64, on the GPU
  when there is one.
- ``acquisition``: LogEI (numerically stable log expected improvement), maximised from Sobol
  and near-incumbent candidates by batched L-BFGS-B in the relaxed cube, then projected exactly
  (round integers, argmax one-hots) and deduplicated against everything tried or running.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from algorithms.tuning.errors import TrialStateError, TuningValidationError
from algorithms.tuning.space import SearchSpace
from algorithms.tuning.strategies import BayesianStrategy, GridStrategy, History, RandomStrategy
from algorithms.tuning.surrogate import SurrogateSlice, surrogate_slice

STRATEGIES = ("Bayesian", "Random", "Hyperband", "Grid")
OBJECTIVE_TYPES = ("Maximize", "Minimize")

TrialState = Literal["Pending", "Completed", "Failed"]


@dataclass
class Trial:
    hyperparameters: dict[str, str]
    state: TrialState
    value: float | None = None  # in the user's sense (not sign-flipped)


@dataclass(frozen=True)
class BestTrial:
    hyperparameters: dict[str, str]
    value: float


class Tuner:
    """Suggests hyperparameter configurations for a SageMaker-style tuning job."""

    def __init__(
        self,
        parameter_ranges: Mapping,
        *,
        strategy: str = "Bayesian",
        objective_type: str = "Maximize",
        seed: int | None = None,
        max_number_of_training_jobs: int | None = None,
    ) -> None:
        if strategy not in STRATEGIES:
            raise TuningValidationError(
                "HyperParameterTuningJobConfig.Strategy", f"must be one of {STRATEGIES}"
            )
        if objective_type not in OBJECTIVE_TYPES:
            raise TuningValidationError(
                "HyperParameterTuningJobObjective.Type", f"must be one of {OBJECTIVE_TYPES}"
            )
        self.space = SearchSpace.from_parameter_ranges(parameter_ranges, strategy=strategy)
        self.strategy = strategy
        self.objective_type = objective_type
        self.seed = int(np.random.SeedSequence(seed).generate_state(1)[0])
        limit_field = "HyperParameterTuningJobConfig.ResourceLimits.MaxNumberOfTrainingJobs"
        if max_number_of_training_jobs is not None and max_number_of_training_jobs < 1:
            raise TuningValidationError(limit_field, "must be at least 1")
        if strategy == "Grid":
            self._strategy = GridStrategy(self.space)
            size = self._strategy.grid_size
            if max_number_of_training_jobs not in (None, size):
                raise TuningValidationError(
                    limit_field,
                    f"must equal the number of categorical combinations ({size}) for Grid",
                )
            max_number_of_training_jobs = size
        elif strategy == "Bayesian":
            self._strategy = BayesianStrategy(self.space, seed=self.seed)
        else:
            self._strategy = RandomStrategy(self.space, seed=self.seed)
        self.max_number_of_training_jobs = max_number_of_training_jobs
        self._trials: dict[tuple[str, ...], Trial] = {}

    # -- ask ---------------------------------------------------------------------------------

    def suggest(self, n: int = 1) -> list[dict[str, str]]:
        """Up to ``n`` new configurations, marked pending; fewer once budget or space run out."""
        if n < 0:
            raise ValueError("n must be non-negative")
        n = min(n, self.remaining) if self.remaining is not None else n
        if n == 0:
            return []
        proposals = self._strategy.propose(n, self._history())
        for hyperparameters in proposals:
            self.mark_pending(hyperparameters)
        return proposals

    @property
    def grid_size(self) -> int | None:
        """The number of combinations a Grid job runs (``None`` for other strategies)."""
        return self._strategy.grid_size if isinstance(self._strategy, GridStrategy) else None

    @property
    def remaining(self) -> int | None:
        """How many more trials ``MaxNumberOfTrainingJobs`` allows, or ``None`` when unlimited."""
        if self.max_number_of_training_jobs is None:
            return None
        return max(self.max_number_of_training_jobs - len(self._trials), 0)

    # -- tell --------------------------------------------------------------------------------

    def mark_pending(self, hyperparameters: Mapping[str, str]) -> None:
        """Record a configuration as running (``suggest`` does this; a resumed job replays it)."""
        key = self.space.key(hyperparameters)
        trial = self._trials.get(key)
        if trial is not None and trial.state != "Pending":
            raise TrialStateError(f"configuration {dict(hyperparameters)} is already {trial.state}")
        self._trials[key] = Trial(self._tunable(hyperparameters), "Pending")

    def observe(self, hyperparameters: Mapping[str, str], value: float) -> None:
        """Record a trial's final objective value (a non-finite value counts as a failure)."""
        if not math.isfinite(value):
            self.observe_failed(hyperparameters)
            return
        self._finish(
            hyperparameters, Trial(self._tunable(hyperparameters), "Completed", float(value))
        )

    def observe_failed(self, hyperparameters: Mapping[str, str]) -> None:
        """Record a trial that failed or never emitted its objective; it is not suggested again."""
        self._finish(hyperparameters, Trial(self._tunable(hyperparameters), "Failed"))

    # -- read --------------------------------------------------------------------------------

    @property
    def trials(self) -> list[Trial]:
        return list(self._trials.values())

    @property
    def best(self) -> BestTrial | None:
        """The best completed trial in the objective's own sense, or ``None`` before any."""
        done = [t for t in self._trials.values() if t.state == "Completed"]
        if not done:
            return None
        pick = max if self.objective_type == "Maximize" else min
        trial = pick(done, key=lambda t: t.value)
        return BestTrial(dict(trial.hyperparameters), float(trial.value))

    @property
    def max_log_expected_improvements(self) -> list[float]:
        """Max LogEI of each model-based batch (warped standardised units), for convergence."""
        return list(getattr(self._strategy, "max_log_ei", []))

    def surrogate_slice(self, parameter: str, *, num_points: int = 60) -> SurrogateSlice | None:
        """The GP's mean and ±1 std along ``parameter``, the others at the best trial's values.

        Fitted afresh to the completed trials whatever the strategy, so Random and Grid jobs get
        the same view; ``None`` while too few trials have completed.
        """
        done = [t for t in self._trials.values() if t.state == "Completed"]
        return surrogate_slice(
            self.space,
            [t.hyperparameters for t in done],
            [t.value for t in done],
            parameter=parameter,
            maximise=self.objective_type == "Maximize",
            num_points=num_points,
        )

    # -- internals ---------------------------------------------------------------------------

    def _tunable(self, hyperparameters: Mapping[str, str]) -> dict[str, str]:
        return dict(zip(self.space.names, self.space.key(hyperparameters), strict=True))

    def _finish(self, hyperparameters: Mapping[str, str], trial: Trial) -> None:
        key = self.space.key(hyperparameters)
        previous = self._trials.get(key)
        if previous is not None and previous.state != "Pending":
            raise TrialStateError(
                f"configuration {dict(hyperparameters)} is already {previous.state}"
            )
        self._trials[key] = trial

    def _history(self) -> History:
        done = [t for t in self._trials.values() if t.state == "Completed"]
        pending = [t for t in self._trials.values() if t.state == "Pending"]
        sign = -1.0 if self.objective_type == "Maximize" else 1.0
        dim = self.space.dim
        return History(
            completed_x=np.array([self.space.encode(t.hyperparameters) for t in done]).reshape(
                -1, dim
            ),
            completed_y=np.array([sign * t.value for t in done], dtype=float),
            pending_x=np.array([self.space.encode(t.hyperparameters) for t in pending]).reshape(
                -1, dim
            ),
            taken=set(self._trials),
        )
