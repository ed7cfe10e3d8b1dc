"""Linear Learner's training core, in torch: ``num_models`` linear models trained side by side in
one vectorised pass (weights shaped ``(models, features, outputs)``), each with its own learning
rate, weight decay and L1, under SageMaker's losses and optimizers.

Every model sees the same mini-batches (one shuffling per epoch); they differ by their
hyperparameters and their random initialisation. The optimizers are written here, not taken from
``torch.optim``, because each model steps with its own learning rate: ``sgd`` (with ``momentum``),
``adam`` (``beta_1``, ``beta_2``) and ``rmsprop`` (decay 0.9, MXNet's default, which SageMaker's
implementation is built on). Weight decay and L1 are added to the gradient (MXNet's coupled form);
the bias has ``bias_lr_mult`` times the learning rate and ``bias_wd_mult`` times the decay (none
by default). The learning rate is multiplied by ``lr_scheduler_factor`` every
``lr_scheduler_step`` updates, never below ``lr_scheduler_minimum_lr``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

# Rows scored at once when evaluating, so that (models x rows x outputs) stays small.
EVALUATION_ROWS = 65_536
_RMSPROP_DECAY = 0.9
_EPSILON = 1e-8


def loss_values(
    scores: torch.Tensor, labels: torch.Tensor, *, loss: str, hp: dict[str, Any]
) -> torch.Tensor:
    """Each record's loss: ``scores`` ``(..., rows, outputs)`` (raw, before any link function),
    ``labels`` ``(rows,)``; returns ``(..., rows)``."""
    if loss == "softmax_loss":
        log_probabilities = torch.log_softmax(scores, dim=-1)
        index = labels.long().expand(*scores.shape[:-1]).unsqueeze(-1)
        return -log_probabilities.gather(-1, index).squeeze(-1)
    score = scores[..., 0]
    if loss == "logistic":
        return torch.nn.functional.binary_cross_entropy_with_logits(
            score, labels.expand_as(score), reduction="none"
        )
    if loss == "hinge_loss":
        signs = labels * 2 - 1
        return torch.clamp(hp["margin"] - signs * score, min=0)
    error = score - labels
    if loss == "squared_loss":
        return error**2
    if loss == "absolute_loss":
        return error.abs()
    if loss == "eps_insensitive_squared_loss":
        return torch.clamp(error.abs() - hp["loss_insensitivity"], min=0) ** 2
    if loss == "eps_insensitive_absolute_loss":
        return torch.clamp(error.abs() - hp["loss_insensitivity"], min=0)
    if loss == "quantile_loss":
        residual = -error  # label - score
        return torch.maximum(hp["quantile"] * residual, (hp["quantile"] - 1) * residual)
    if loss == "huber_loss":
        delta = hp["huber_delta"]
        absolute = error.abs()
        return torch.where(absolute <= delta, absolute**2 / 2, delta * (absolute - delta / 2))
    raise ValueError(f"unknown loss {loss!r}")


@dataclass(frozen=True)
class Scaling:
    """How features (and a regressor's labels) are standardised before the linear map."""

    mean: np.ndarray
    scale: np.ndarray
    label_mean: float = 0.0
    label_scale: float = 1.0

    def features(self, features: np.ndarray) -> np.ndarray:
        return ((features - self.mean) / self.scale).astype(np.float32)


def fit_scaling(features: np.ndarray, labels: np.ndarray, hp: dict[str, Any]) -> Scaling:
    """SageMaker's ``normalize_data``/``unbias_data`` (and ``*_label`` for regressors), estimated
    on the first ``num_point_for_scaler`` records."""
    sample = features[: hp["num_point_for_scaler"]]
    regressor = hp["predictor_type"] == "regressor"
    normalize, unbias = _switch(hp["normalize_data"], True), hp["unbias_data"]
    unbias = normalize if unbias == "auto" else unbias
    mean = sample.mean(axis=0) if unbias else np.zeros(features.shape[1])
    scale = sample.std(axis=0) if normalize else np.ones(features.shape[1])
    scale = np.where(scale > 0, scale, 1.0)
    if not regressor:
        return Scaling(mean, scale)
    targets = labels[: hp["num_point_for_scaler"]]
    normalize_label = _switch(hp["normalize_label"], True)
    unbias_label = _switch(hp["unbias_label"], normalize_label)
    return Scaling(
        mean,
        scale,
        label_mean=float(targets.mean()) if unbias_label else 0.0,
        label_scale=float(targets.std() or 1.0) if normalize_label else 1.0,
    )


def _switch(value: Any, auto: bool) -> bool:
    return auto if value == "auto" else bool(value)


class ParallelLinear:
    """``models`` linear maps trained together; ``epoch`` runs one pass of mini-batch updates."""

    def __init__(
        self,
        candidates: list[dict[str, Any]],
        *,
        feature_count: int,
        outputs: int,
        device: torch.device,
        generator: torch.Generator,
    ) -> None:
        hp = candidates[0]
        self.hp = hp
        self.device = device
        self.generator = generator
        count = len(candidates)
        if hp["init_method"] == "normal":
            weights = torch.randn(count, feature_count, outputs, generator=generator)
            weights *= hp["init_sigma"]
        else:
            weights = torch.rand(count, feature_count, outputs, generator=generator)
            weights = (weights * 2 - 1) * hp["init_scale"]
        self.weights = weights.to(device).requires_grad_()
        bias = torch.full((count, outputs), float(hp["init_bias"]))
        self.bias = bias.to(device).requires_grad_(hp["use_bias"])
        column = torch.tensor([c["learning_rate"] for c in candidates], device=device)
        self.learning_rate = column
        self.minimum_lr = torch.tensor([c["lr_scheduler_minimum_lr"] for c in candidates])
        self.minimum_lr = self.minimum_lr.to(device)
        self.wd = torch.tensor([c["wd"] for c in candidates], device=device)
        self.l1 = torch.tensor([c["l1"] for c in candidates], device=device)
        self.state = {id(p): {} for p in (self.weights, self.bias)}
        self.updates = 0

    def scores(self, features: torch.Tensor) -> torch.Tensor:
        """Raw scores ``(models, rows, outputs)``."""
        return torch.einsum("bd,mdk->mbk", features, self.weights) + self.bias[:, None, :]

    def epoch(
        self, features: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor | None
    ) -> np.ndarray:
        """One shuffled pass; each model's mean (weighted) loss over it."""
        hp = self.hp
        rows = len(labels)
        total = torch.zeros(self.weights.shape[0], device=self.device)
        order = torch.randperm(rows, generator=self.generator).to(self.device)
        for batch in order.split(hp["mini_batch_size"]):
            losses = loss_values(
                self.scores(features[batch]), labels[batch], loss=hp["loss"], hp=hp
            )
            if weights is not None:
                losses = losses * weights[batch]
            per_model = losses.mean(dim=1)
            self.weights.grad = self.bias.grad = None
            # The models share no parameter, so the sum's gradient is each model's own.
            per_model.sum().backward()
            self._step()
            total += per_model.detach() * len(batch)
        return (total / rows).cpu().numpy()

    @torch.no_grad()
    def _step(self) -> None:
        hp = self.hp
        self.updates += 1
        if hp["use_lr_scheduler"] and self.updates % hp["lr_scheduler_step"] == 0:
            self.learning_rate = torch.maximum(
                self.learning_rate * hp["lr_scheduler_factor"], self.minimum_lr
            )
        self._update(self.weights, self.learning_rate[:, None, None], self.wd[:, None, None])
        if hp["use_bias"]:
            self._update(
                self.bias,
                (self.learning_rate * hp["bias_lr_mult"])[:, None],
                (self.wd * hp["bias_wd_mult"])[:, None],
                l1=False,
            )

    def _update(
        self, param: torch.Tensor, lr: torch.Tensor, wd: torch.Tensor, *, l1: bool = True
    ) -> None:
        hp, state = self.hp, self.state[id(param)]
        grad = param.grad + wd * param
        if l1:
            grad = grad + self.l1[:, None, None] * torch.sign(param)
        if hp["optimizer"] == "sgd":
            if hp["momentum"] > 0:
                velocity = state.setdefault("velocity", torch.zeros_like(param))
                velocity.mul_(hp["momentum"]).add_(grad)
                grad = velocity
            param -= lr * grad
        elif hp["optimizer"] == "rmsprop":
            square = state.setdefault("square", torch.zeros_like(param))
            square.mul_(_RMSPROP_DECAY).addcmul_(grad, grad, value=1 - _RMSPROP_DECAY)
            param -= lr * grad / (square.sqrt() + _EPSILON)
        else:  # adam
            beta_1, beta_2 = hp["beta_1"], hp["beta_2"]
            first = state.setdefault("first", torch.zeros_like(param))
            second = state.setdefault("second", torch.zeros_like(param))
            first.mul_(beta_1).add_(grad, alpha=1 - beta_1)
            second.mul_(beta_2).addcmul_(grad, grad, value=1 - beta_2)
            step = self.updates
            corrected = first / (1 - beta_1**step)
            param -= lr * corrected / ((second / (1 - beta_2**step)).sqrt() + _EPSILON)

    def snapshot(self, model: int) -> tuple[np.ndarray, np.ndarray]:
        """One model's weights ``(features, outputs)`` and bias ``(outputs,)``, on the CPU."""
        return (
            self.weights[model].detach().cpu().numpy().copy(),
            self.bias[model].detach().cpu().numpy().copy(),
        )

    @torch.no_grad()
    def raw_scores(self, features: torch.Tensor) -> np.ndarray:
        """Every model's raw scores ``(models, rows, outputs)`` for ``features``, in chunks."""
        parts = [self.scores(chunk).cpu().numpy() for chunk in features.split(EVALUATION_ROWS)]
        return np.concatenate(parts, axis=1)
