"""How each SageMaker tuning strategy proposes its next configurations (Random, Grid, Bayesian).

A strategy sees the tuner's history through :class:`History` and proposes up to ``n`` new
configurations, never one the history already holds (done, failed or running). Hyperband draws
its configurations from :class:`RandomStrategy`; its schedule lives in ``hyperband.py``.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy.stats import qmc

from algorithms.tuning.acquisition import maximise_log_ei
from algorithms.tuning.gp import DTYPE, GaussianProcess, warp_outputs
from algorithms.tuning.space import CategoricalParameter, SearchSpace

Key = tuple[str, ...]
MAX_ENUMERATED = 100_000  # finite spaces this small are enumerated once random draws keep colliding
NUM_ANCHORS = 5


@dataclass
class History:
    """What a strategy may look at: completed points (to minimise) and every configuration taken."""

    completed_x: np.ndarray  # (n, d) unit-cube encodings
    completed_y: np.ndarray  # (n,) objective values, sign-flipped so that lower is better
    pending_x: np.ndarray  # (p, d)
    taken: set[Key] = field(default_factory=set)


class RandomStrategy:
    """Scrambled Sobol points in the unit cube, decoded; better spread than i.i.d. uniform draws."""

    def __init__(self, space: SearchSpace, *, seed: int) -> None:
        self.space = space
        self._engine = qmc.Sobol(space.dim, scramble=True, seed=seed)
        self._rng = np.random.default_rng(seed)

    def propose(self, n: int, history: History) -> list[dict[str, str]]:
        chosen: list[dict[str, str]] = []
        taken = set(history.taken)
        misses = 0
        while len(chosen) < n:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Sobol balance warnings for non-powers of two
                u = self._engine.random(1)[0]
            candidate = self.space.decode(u)
            key = self.space.key(candidate)
            if key in taken:
                misses += 1
                if misses >= 64 and self.space.is_finite:
                    return chosen + self._enumerate_rest(n - len(chosen), taken)
                continue
            taken.add(key)
            chosen.append(candidate)
        return chosen

    def _enumerate_rest(self, n: int, taken: set[Key]) -> list[dict[str, str]]:
        size = self.space.size or 0
        if size > MAX_ENUMERATED:
            return []
        values = [
            p.values
            if isinstance(p, CategoricalParameter)
            else [str(v) for v in range(int(p.low), int(p.high) + 1)]
            for p in self.space.parameters
        ]
        rest = [combo for combo in itertools.product(*values) if combo not in taken]
        picks = self._rng.permutation(len(rest))[:n]
        return [dict(zip(self.space.names, rest[i], strict=True)) for i in sorted(picks)]


class GridStrategy:
    """Every combination of the categorical values, in a fixed order, each exactly once."""

    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        self.grid_size = space.size or 0

    def propose(self, n: int, history: History) -> list[dict[str, str]]:
        fresh = (c for c in self.space.grid() if self.space.key(c) not in history.taken)
        return list(itertools.islice(fresh, n))


class BayesianStrategy:
    """GP + LogEI after a scrambled-Sobol initial design; pending trials enter as fantasies.

    Each of a batch's points is chosen against a posterior conditioned on the running and the
    already-chosen points at their posterior mean ("kriging believer"): the variance there
    collapses, so parallel suggestions spread out without sampling.
    """

    def __init__(self, space: SearchSpace, *, seed: int, initial_design: int | None = None) -> None:
        self.space = space
        self.initial_design = initial_design or min(max(5, space.dim + 1), 10)
        self._design = RandomStrategy(space, seed=seed)
        self._rng = np.random.default_rng(seed + 1)
        self._gp = GaussianProcess()
        self.max_log_ei: list[float] = []  # first point of each model-based batch, for convergence

    def propose(self, n: int, history: History) -> list[dict[str, str]]:
        n_done, n_pending = len(history.completed_y), len(history.pending_x)
        from_design = 0 if n_done >= 2 else n
        from_design = max(from_design, min(n, self.initial_design - n_done - n_pending))
        chosen = self._design.propose(from_design, history) if from_design > 0 else []
        if len(chosen) == n:
            return chosen
        taken = set(history.taken) | {self.space.key(c) for c in chosen}
        pending = [history.pending_x] + [self.space.encode(c)[None] for c in chosen]
        return chosen + self._from_model(n - len(chosen), history, np.vstack(pending), taken)

    def _from_model(
        self, n: int, history: History, pending_x: np.ndarray, taken: set[Key]
    ) -> list[dict[str, str]]:
        y = warp_outputs(history.completed_y)
        posterior = self._gp.fit(history.completed_x, y)
        if len(pending_x):
            posterior = _believe(posterior, pending_x)
        anchors = history.completed_x[np.argsort(y, kind="stable")[:NUM_ANCHORS]]

        def is_new(u: np.ndarray) -> bool:
            return self.space.key(self.space.decode(u)) not in taken

        chosen: list[dict[str, str]] = []
        for i in range(n):
            found = maximise_log_ei(
                posterior,
                incumbent=float(y.min()),
                anchors=anchors,
                project=self.space.project,
                is_new=is_new,
                seed=int(self._rng.integers(2**31)),
            )
            if found is None:
                break
            x, value = found
            if i == 0:
                self.max_log_ei.append(value)
            candidate = self.space.decode(x)
            taken.add(self.space.key(candidate))
            chosen.append(candidate)
            if i + 1 < n:
                posterior = _believe(posterior, x[None])
        if len(chosen) < n:  # the model's region is exhausted: fill from the design sequence
            history_now = History(history.completed_x, history.completed_y, pending_x, taken)
            chosen += self._design.propose(n - len(chosen), history_now)
        return chosen


def _believe(posterior, x: np.ndarray):
    tensor = torch.as_tensor(x, dtype=DTYPE, device=posterior.x.device)
    with torch.no_grad():
        mean, _ = posterior(tensor)
    return posterior.condition_on(tensor, mean)
