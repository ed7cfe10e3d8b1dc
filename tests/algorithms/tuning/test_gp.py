"""The surrogate and LogEI: numerics that the optimiser's quality rests on."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from algorithms.tuning.acquisition import log_expected_improvement, log_h
from algorithms.tuning.gp import GaussianProcess, warp_outputs


def test_log_h_matches_the_closed_form_and_stays_finite_far_below():
    z = torch.linspace(-5, 5, 41, dtype=torch.float64)
    normal = torch.distributions.Normal(0.0, 1.0)
    exact = torch.log(normal.log_prob(z).exp() + z * normal.cdf(z))
    assert torch.allclose(log_h(z), exact, rtol=1e-9, atol=1e-12)
    far = torch.tensor([-40.0, -1e3, -1e8], dtype=torch.float64, requires_grad=True)
    values = log_h(far)
    values.sum().backward()
    assert torch.all(torch.isfinite(values)) and torch.all(torch.isfinite(far.grad))
    # Asymptotically log h(z) ~ -z^2/2 - log(sqrt(2 pi)) - 2 log|z|.
    expected = -0.5 * 40.0**2 - 0.5 * math.log(2 * math.pi) - 2 * math.log(40.0)
    assert values[0].item() == pytest.approx(expected, abs=1e-2)


def test_log_ei_prefers_low_means_and_high_uncertainty():
    mean = torch.tensor([0.0, -1.0, 0.0], dtype=torch.float64)
    std = torch.tensor([0.1, 0.1, 1.0], dtype=torch.float64)
    values = log_expected_improvement(mean, std, incumbent=-0.5)
    assert values[1] > values[0] and values[2] > values[0]


def test_warp_keeps_order_and_tames_a_heavy_tail():
    y = np.array([0.1, 0.2, 0.3, 0.5, 1.0, 3.0, 1000.0])
    warped = warp_outputs(y)
    assert list(np.argsort(warped)) == list(np.argsort(y))
    assert abs(warped.mean()) < 1e-9 and abs(warped.std() - 1) < 1e-9
    # Standardisation alone would squeeze the six small values into 0.03 sd of each other.
    assert np.ptp(warped[:-1]) > 1.0


def test_posterior_interpolates_data_and_matches_gpytorch():
    rng = np.random.default_rng(0)
    x = rng.random((12, 2))
    y = warp_outputs(np.sin(6 * x[:, 0]) + x[:, 1])
    gp = GaussianProcess()
    posterior = gp.fit(x, y)
    mean, std = posterior(torch.as_tensor(x))
    assert np.allclose(mean.numpy(), y, atol=0.1)
    _, far_std = posterior(torch.tensor([[0.5, 0.5]], dtype=torch.float64) + 10)
    assert far_std.item() > std.max().item()
    # The closed-form kernel equals the fitted GPyTorch Matérn-5/2 scale kernel.
    import gpytorch

    kernel = gpytorch.kernels.ScaleKernel(
        gpytorch.kernels.MaternKernel(nu=2.5, ard_num_dims=2)
    ).double()
    kernel.base_kernel.lengthscale = posterior.lengthscale
    kernel.outputscale = posterior.outputscale
    a, b = torch.as_tensor(x[:5]), torch.as_tensor(x[5:])
    assert torch.allclose(posterior.kernel(a, b), kernel(a, b).to_dense(), atol=1e-6)
