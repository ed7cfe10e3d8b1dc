"""The surrogate's view along one hyperparameter: mean and ±1 std, in the objective's units.

What the console charts: the GP (the same model and output warp the Bayesian strategy uses) is
fitted to every completed trial, and evaluated along one parameter's range with the others held
at the best trial's values. The band is the warped mean ± one warped standard deviation mapped
back through the (monotone) warp, so it is asymmetric where the warp bends.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from algorithms.tuning.errors import UnknownConfigurationError
from algorithms.tuning.gp import DTYPE, GaussianProcess, OutputWarp
from algorithms.tuning.space import CategoricalParameter, SearchSpace

MIN_TRIALS = 3


@dataclass(frozen=True)
class SurrogateSlice:
    parameter: str
    kind: str  # Continuous | Integer | Categorical
    scale: str  # Linear | Logarithmic | ReverseLogarithmic | Categorical
    values: list[str]  # the parameter's values along the slice, as trials get them
    mean: list[float]
    lower: list[float]
    upper: list[float]
    at: dict[str, str]  # the configuration the other parameters are held at (the best trial's)


def surrogate_slice(
    space: SearchSpace,
    configurations: list[dict[str, str]],
    values: list[float],
    *,
    parameter: str,
    maximise: bool,
    num_points: int = 60,
) -> SurrogateSlice | None:
    """The slice along ``parameter``; ``None`` until ``MIN_TRIALS`` distinct values exist."""
    try:
        index = space.names.index(parameter)
    except ValueError:
        raise UnknownConfigurationError(
            f"{parameter!r} is not a tunable hyperparameter; tunable: {', '.join(space.names)}"
        ) from None
    sign = -1.0 if maximise else 1.0
    y = sign * np.asarray(values, dtype=float)
    if len(y) < MIN_TRIALS or np.ptp(y) == 0:
        return None
    warp = OutputWarp.fit(y)
    x = np.array([space.encode(c) for c in configurations])
    posterior = GaussianProcess().fit(x, warp(y))
    best = dict(configurations[int(np.argmin(y))])
    spec = space.parameters[index]
    along = _values_along(spec, num_points)
    points = np.array([space.encode({**best, parameter: value}) for value in along])
    with torch.no_grad():
        mean, std = posterior(torch.as_tensor(points, dtype=DTYPE, device=posterior.x.device))
    mean, std = mean.cpu().numpy(), std.cpu().numpy()
    centre = sign * warp.inverse(mean)
    one, other = sign * warp.inverse(mean - std), sign * warp.inverse(mean + std)
    if isinstance(spec, CategoricalParameter):
        kind, scale = "Categorical", "Categorical"
    else:
        kind, scale = ("Integer" if spec.is_integer else "Continuous"), spec.scaling
    return SurrogateSlice(
        parameter=parameter,
        kind=kind,
        scale=scale,
        values=along,
        mean=centre.tolist(),
        lower=np.minimum(one, other).tolist(),
        upper=np.maximum(one, other).tolist(),
        at=best,
    )


def _values_along(spec, num_points: int) -> list[str]:
    if isinstance(spec, CategoricalParameter):
        return list(spec.values)
    decoded = [spec.decode([u]) for u in np.linspace(0.0, 1.0, num_points)]
    return list(dict.fromkeys(decoded))  # integers repeat; keep each once, in order
