"""The surrogate's slice along one parameter, and the output warp it maps back through."""

from __future__ import annotations

import numpy as np
import pytest

from algorithms.tuning import Tuner, UnknownConfigurationError
from algorithms.tuning.gp import OutputWarp, warp_outputs

RANGES = {
    "ContinuousParameterRanges": [
        {"Name": "lr", "MinValue": "0.001", "MaxValue": "1", "ScalingType": "Logarithmic"}
    ],
    "IntegerParameterRanges": [{"Name": "depth", "MinValue": "1", "MaxValue": "6"}],
    "CategoricalParameterRanges": [{"Name": "booster", "Values": ["gbtree", "dart"]}],
}


@pytest.mark.parametrize(
    "y",
    [
        np.random.default_rng(0).lognormal(size=30) * 100,  # heavy tail: the power transform
        np.array([3.0, 1.0, 2.0]),  # too few for the transform: linear
        np.array([5.0, 5.0]),  # constant: everything warps to 0
    ],
)
def test_the_warp_is_what_the_model_sees_and_inverts(y):
    warp = OutputWarp.fit(y)
    assert np.allclose(warp(y), warp_outputs(y))
    if np.ptp(y) > 0:
        assert np.allclose(warp.inverse(warp(y)), y)
        grid = np.linspace(-3, 3, 50)
        assert np.all(np.diff(warp.inverse(grid)) > 0)  # monotone: bands map across


def objective(hp: dict[str, str]) -> float:
    return (
        (np.log10(float(hp["lr"])) + 1.5) ** 2 + 0.1 * int(hp["depth"]) + (hp["booster"] == "dart")
    )


def test_slice_follows_the_objective_with_the_others_at_the_best():
    tuner = Tuner(RANGES, objective_type="Minimize", seed=3)
    assert tuner.surrogate_slice("lr") is None  # nothing observed yet
    for _ in range(15):
        [hp] = tuner.suggest(1)
        tuner.observe(hp, objective(hp))

    along = tuner.surrogate_slice("lr", num_points=40)
    assert along.scale == "Logarithmic" and along.kind == "Continuous"
    assert along.at == tuner.best.hyperparameters
    lrs = np.array([float(v) for v in along.values])
    assert lrs[0] == pytest.approx(0.001) and lrs[-1] == pytest.approx(1.0)
    assert all(
        lo <= m <= hi for lo, m, hi in zip(along.lower, along.mean, along.upper, strict=True)
    )
    # The model's minimum along lr sits near the true one (10^-1.5), well inside the range.
    assert 10**-2.5 < lrs[int(np.argmin(along.mean))] < 10**-0.5

    depth = tuner.surrogate_slice("depth")
    assert depth.values == ["1", "2", "3", "4", "5", "6"]
    booster = tuner.surrogate_slice("booster")
    assert booster.values == ["gbtree", "dart"] and booster.mean[0] < booster.mean[1]
    with pytest.raises(UnknownConfigurationError):
        tuner.surrogate_slice("gamma")


def test_a_maximised_objective_is_sliced_in_its_own_sense():
    tuner = Tuner(RANGES, objective_type="Maximize", seed=4)
    for _ in range(12):
        [hp] = tuner.suggest(1)
        tuner.observe(hp, -objective(hp))
    along = tuner.surrogate_slice("booster")
    assert along.mean[0] > along.mean[1]  # gbtree is better, i.e. higher
