"""LogEI, the acquisition function of Bayesian tuning, and its optimiser over the relaxed unit cube.

LogEI (Ament et al., "Unexpected Improvements to Expected Improvement", NeurIPS 2023) is the
logarithm of expected improvement computed without underflow: EI itself is exactly zero in
float64 a few standard deviations below the incumbent, which leaves gradient-based optimisers
with flat plateaus. Its maximiser is EI's maximiser.

The optimiser scores scrambled-Sobol candidates plus perturbations of the best observed points,
starts a batch of L-BFGS-B runs (scipy; torch autograd gradients of the summed batch, the points
being independent) from the best-scoring ones, then projects every result onto the feasible set
(integers rounded, one-hots made exact), re-scores the projections and keeps the best one that is
not a configuration already tried, running or chosen.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from scipy import optimize
from scipy.stats import qmc

from algorithms.tuning.gp import DTYPE, Posterior

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
_HALF_LOG_PI_OVER_2 = 0.5 * math.log(math.pi / 2)


def _log1mexp(x: torch.Tensor) -> torch.Tensor:
    """log(1 - exp(x)) for x < 0, accurate on both sides of -log 2 (Mächler, 2012)."""
    return torch.where(
        x > -math.log(2),
        torch.log(-torch.expm1(x.clamp_max(-1e-300))),
        torch.log1p(-torch.exp(x)),
    )


def log_h(z: torch.Tensor) -> torch.Tensor:
    """log(phi(z) + z Phi(z)), the log of EI for a unit-variance posterior, stable for all z."""
    upper = z.clamp_min(-1.0)
    phi = torch.exp(-0.5 * upper * upper - _LOG_SQRT_2PI)
    direct = torch.log(phi + upper * torch.special.ndtr(upper))
    # Below -1: phi(z) (1 - |z| Phi(z)/phi(z)), with Phi/phi = sqrt(pi/2) erfcx(-z/sqrt 2).
    lower = z.clamp(-1e6, -1.0)
    log_phi = -0.5 * lower * lower - _LOG_SQRT_2PI
    w = torch.log(torch.special.erfcx(-lower / math.sqrt(2)) * lower.abs()) + _HALF_LOG_PI_OVER_2
    tail = log_phi + _log1mexp(w)
    # Far tail: 1 - |z| Phi/phi -> 1/z^2; the series above loses all digits there.
    far = z.clamp_max(-1e6)
    asymptotic = -0.5 * far * far - _LOG_SQRT_2PI - 2 * torch.log(far.abs())
    return torch.where(z > -1.0, direct, torch.where(z > -1e6, tail, asymptotic))


def log_expected_improvement(
    mean: torch.Tensor, std: torch.Tensor, *, incumbent: float
) -> torch.Tensor:
    """log E[max(incumbent - f, 0)] for minimisation, f ~ N(mean, std^2)."""
    return log_h((incumbent - mean) / std) + torch.log(std)


def maximise_log_ei(
    posterior: Posterior,
    *,
    incumbent: float,
    anchors: np.ndarray,
    project: Callable[[np.ndarray], np.ndarray],
    is_new: Callable[[np.ndarray], bool],
    seed: int,
    num_candidates: int = 1024,
    num_local: int = 256,
    num_restarts: int = 8,
    max_iterations: int = 100,
) -> tuple[np.ndarray, float] | None:
    """The feasible, unseen point of highest LogEI and its value; ``None`` when none is left."""
    dim = posterior.x.shape[-1]
    rng = np.random.default_rng(seed)

    def acquisition(x: torch.Tensor) -> torch.Tensor:
        mean, std = posterior(x)
        return log_expected_improvement(mean, std, incumbent=incumbent)

    def score(points: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            tensor = torch.as_tensor(points, dtype=DTYPE, device=posterior.x.device)
            return acquisition(tensor).cpu().numpy()

    candidates = _candidates(
        dim, anchors, rng=rng, seed=seed, num_sobol=num_candidates, num_local=num_local
    )
    values = score(candidates)
    order = np.argsort(-values)
    starts = candidates[order[:num_restarts]]
    optimised = _batched_lbfgsb(
        acquisition, starts, device=posterior.x.device, max_iterations=max_iterations
    )

    # Projections of the optimised points first, then of the candidates in order of their score.
    pool = np.vstack([optimised, candidates[order]])
    projected = np.array([project(x) for x in pool[: num_restarts * 2]])
    projected_values = score(projected)
    for i in np.argsort(-projected_values, kind="stable"):
        if is_new(projected[i]):
            return projected[i], float(projected_values[i])
    for x in candidates[order[num_restarts:]]:
        point = project(x)
        if is_new(point):
            return point, float(score(point[None])[0])
    return None


def _candidates(
    dim: int,
    anchors: np.ndarray,
    *,
    rng: np.random.Generator,
    seed: int,
    num_sobol: int,
    num_local: int,
) -> np.ndarray:
    sobol = qmc.Sobol(dim, scramble=True, seed=seed).random(num_sobol)
    if len(anchors) == 0:
        return sobol
    # Perturbations at two scales around the best points: the global design alone rarely lands
    # close enough to an incumbent to refine it once the model is confident.
    centres = anchors[rng.integers(len(anchors), size=num_local)]
    scales = np.where(rng.random((num_local, 1)) < 0.5, 0.1, 0.01)
    local = np.clip(centres + scales * rng.standard_normal((num_local, dim)), 0.0, 1.0)
    return np.vstack([sobol, local])


def _batched_lbfgsb(
    acquisition: Callable[[torch.Tensor], torch.Tensor],
    starts: np.ndarray,
    *,
    device: torch.device,
    max_iterations: int,
) -> np.ndarray:
    shape = starts.shape

    def negative_and_grad(flat: np.ndarray) -> tuple[float, np.ndarray]:
        x = torch.as_tensor(flat.reshape(shape), dtype=DTYPE, device=device).requires_grad_(True)
        loss = -acquisition(x).sum()
        loss.backward()
        grad = x.grad.reshape(-1).cpu().numpy()
        if not np.isfinite(loss.item()) or not np.all(np.isfinite(grad)):
            return 1e10, np.zeros_like(flat)
        return loss.item(), grad

    result = optimize.minimize(
        negative_and_grad,
        starts.reshape(-1),
        jac=True,
        method="L-BFGS-B",
        bounds=[(0.0, 1.0)] * starts.size,
        options={"maxiter": max_iterations},
    )
    return np.clip(result.x.reshape(shape), 0.0, 1.0)
