"""``factorization-machines``: SageMaker's Factorization Machines, in torch.

Score ``w0 + <w, x> + sum_{i<j} <v_i, v_j> x_i x_j`` with separate learning rates, weight decays
and initialisations for the bias, linear and factor terms (SageMaker's names and defaults),
optimised with Adam. Sparse ``text/libsvm`` channels train without densifying. The evaluation
channel is ``test`` (SageMaker's) or ``validation``; metrics carry its name, e.g. ``test:rmse``.
Outputs ``score`` (+ ``predicted_label`` for binary_classifier); a CSV line carries the label
for classifiers and the score for regressors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn import metrics as skm

from algorithms.base import (
    Algorithm,
    Channel,
    Hyperparameter,
    HyperparameterError,
    Model,
    Reporter,
    TrainingResult,
)
from algorithms.builtin.torch_training import (
    LIBRARIES,
    check_binary_labels,
    feature_batch,
    limit_cpu_threads,
    load_saved,
    save_model,
    seed_everything,
    shuffled_batches,
    training_device,
)
from algorithms.codecs import Predictions
from algorithms.data import Dataset, read_channel, split_channels
from algorithms.hyperparameters import MACHINERY, check_feature_dim, log_moot_values, no_effect
from algorithms.manifest import read_manifest, write_manifest
from algorithms.predictor import FIRST_PARTY_TYPES, MatrixModel
from algorithms.recordio import RECORDIO
from algorithms.registry import register

PREDICTOR_TYPES = ("binary_classifier", "regressor")
INIT_METHODS = ("normal", "uniform", "constant")
# (term, default learning rate, default weight decay, default init sigma): SageMaker's.
TERMS = (
    ("bias", 0.1, 0.01, 0.01),
    ("linear", 0.001, 0.001, 0.01),
    ("factors", 0.0001, 1e-5, 0.001),
)
_EVALUATION_CHANNELS = ("test", "validation")


def _term_hyperparameters() -> tuple[Hyperparameter, ...]:
    declared: list[Hyperparameter] = []
    for term, lr, wd, sigma in TERMS:
        declared += [
            Hyperparameter(f"{term}_lr", "float", lr, min=0),
            Hyperparameter(f"{term}_wd", "float", wd, min=0),
            Hyperparameter(f"{term}_init_method", "str", "normal", choices=INIT_METHODS),
            Hyperparameter(f"{term}_init_sigma", "float", sigma, min=0),
            Hyperparameter(f"{term}_init_scale", "float", None, min=0),
            Hyperparameter(f"{term}_init_value", "float", None),
        ]
    return tuple(declared)


@register("factorization-machines")
class FactorizationMachines(Algorithm):
    training_content_types = ("text/csv", "application/jsonlines", "text/libsvm", RECORDIO)
    metrics = tuple(
        f"{channel}:{metric}"
        for channel in ("train", *_EVALUATION_CHANNELS)
        for metric in (
            "rmse",
            "binary_classification_accuracy",
            "binary_classification_cross_entropy",
            "binary_f_beta",
        )
    )
    hyperparameters = (
        Hyperparameter("feature_dim", "int", required=True, min=1),
        Hyperparameter("num_factors", "int", required=True, min=1, max=1000),
        Hyperparameter("predictor_type", "str", required=True, choices=PREDICTOR_TYPES),
        Hyperparameter("epochs", "int", 1, min=1),
        Hyperparameter("mini_batch_size", "int", 1000, min=1),
        *_term_hyperparameters(),
        Hyperparameter("clip_gradient", "float", None, min=0, min_exclusive=True),
        Hyperparameter("eps", "float", 1e-8, min=0, min_exclusive=True),
        Hyperparameter("seed", "int", None, min=0),
        no_effect("rescale_grad", "float", None, "the loss is a mean over each mini-batch"),
        *MACHINERY,
    )

    @classmethod
    def check_hyperparameters(cls, values: dict[str, Any]) -> None:
        for term, *_ in TERMS:
            method = values[f"{term}_init_method"]
            needed = {"uniform": f"{term}_init_scale", "constant": f"{term}_init_value"}.get(method)
            if needed and values[needed] is None:
                raise HyperparameterError(needed, f"is required when {term}_init_method={method}")

    def train(
        self,
        *,
        channels: dict[str, Channel],
        hyperparameters: dict[str, Any],
        model_dir: Path,
        reporter: Reporter,
    ) -> TrainingResult:
        hp = hyperparameters
        train_channel, evaluation_channel = split_channels(
            channels, evaluation=_EVALUATION_CHANNELS
        )
        train = read_channel(train_channel, allow_sparse=True)
        check_feature_dim(hp["feature_dim"], train.feature_count)
        evaluation = evaluation_channel and read_channel(
            evaluation_channel, feature_count=train.feature_count, allow_sparse=True
        )
        classifier = hp["predictor_type"] == "binary_classifier"
        if classifier:
            check_binary_labels(train, source=train_channel.name)
            if evaluation is not None:
                check_binary_labels(evaluation, source=evaluation_channel.name)

        limit_cpu_threads()
        seed, generator = seed_everything(hp["seed"])
        device = training_device()
        reporter.log(f"training on {device} with seed {seed}")
        log_moot_values(self.hyperparameters, hp, reporter.log)
        machine = FactorizationMachine(hp["feature_dim"], hp["num_factors"])
        _initialise(machine, hp)
        machine.to(device)
        optimizer = torch.optim.Adam(
            [{"params": [getattr(machine, term)], "lr": hp[f"{term}_lr"]} for term, *_ in TERMS],
            eps=hp["eps"],
        )
        loss_fn = torch.nn.BCEWithLogitsLoss() if classifier else torch.nn.MSELoss()
        labels = torch.as_tensor(train.labels, dtype=torch.float32, device=device)
        metrics: dict[str, float] = {}
        stopped = False
        for epoch in range(1, hp["epochs"] + 1):
            for rows in shuffled_batches(train.rows, hp["mini_batch_size"], generator):
                x = feature_batch(train.features, rows, device)
                loss = loss_fn(machine(x), labels[rows.to(device)]) + _weight_decay(machine, hp)
                optimizer.zero_grad()
                loss.backward()
                if hp["clip_gradient"] is not None:
                    torch.nn.utils.clip_grad_value_(machine.parameters(), hp["clip_gradient"])
                optimizer.step()
            metrics = _evaluate(machine, train, "train", classifier=classifier, device=device)
            if evaluation is not None:
                metrics |= _evaluate(
                    machine,
                    evaluation,
                    evaluation_channel.name,
                    classifier=classifier,
                    device=device,
                )
            for name, value in metrics.items():
                reporter.metric(name, value, step=epoch)
            reporter.log(f"epoch {epoch}: " + " ".join(f"{k}={v:.6g}" for k, v in metrics.items()))
            if reporter.should_stop():
                stopped = epoch < hp["epochs"]
                break

        save_model(
            model_dir,
            module=machine,
            architecture={"feature_dim": hp["feature_dim"], "num_factors": hp["num_factors"]},
        )
        write_manifest(
            model_dir,
            algorithm=self.name,
            hyperparameters=hp,
            feature_count=train.feature_count,
            libraries=LIBRARIES,
            details={"seed": seed},
        )
        return TrainingResult(final_metrics=metrics, stopped_early=stopped)

    @classmethod
    def load(cls, model_dir: Path) -> Model:
        saved = load_saved(model_dir)
        machine = FactorizationMachine(**saved["architecture"])
        machine.load_state_dict(saved["state_dict"])
        predictor_type = read_manifest(model_dir).hyperparameters["predictor_type"]
        return FactorizationMachineModel(machine, classifier=predictor_type == "binary_classifier")


class FactorizationMachine(torch.nn.Module):
    def __init__(self, feature_dim: int, num_factors: int) -> None:
        super().__init__()
        self.bias = torch.nn.Parameter(torch.zeros(1))
        self.linear = torch.nn.Parameter(torch.zeros(feature_dim, 1))
        self.factors = torch.nn.Parameter(torch.zeros(feature_dim, num_factors))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (or values) for a dense or sparse COO batch, in O(nonzeros * factors)."""
        # Rendle's identity: sum_{i<j} <v_i,v_j> x_i x_j = 1/2 sum_f ((xV)_f^2 - (x^2)(V^2)_f).
        squared = x.pow(2)
        interactions = 0.5 * ((x @ self.factors).pow(2) - squared @ self.factors.pow(2)).sum(1)
        return self.bias + (x @ self.linear).squeeze(1) + interactions


def _initialise(machine: FactorizationMachine, hp: dict[str, Any]) -> None:
    with torch.no_grad():
        for term, *_ in TERMS:
            parameter = getattr(machine, term)
            method = hp[f"{term}_init_method"]
            if method == "normal":
                parameter.normal_(0.0, hp[f"{term}_init_sigma"])
            elif method == "uniform":
                scale = hp[f"{term}_init_scale"]
                parameter.uniform_(-scale, scale)
            else:
                parameter.fill_(hp[f"{term}_init_value"])


def _weight_decay(machine: FactorizationMachine, hp: dict[str, Any]) -> torch.Tensor:
    # Per term, as an L2 penalty in the loss: Adam's own weight_decay would mix it into the
    # adaptive step, which is not what SageMaker's *_wd mean.
    return sum(
        (hp[f"{term}_wd"] * getattr(machine, term).pow(2).sum() for term, *_ in TERMS),
        start=torch.zeros((), device=machine.bias.device),
    )


def _evaluate(
    machine: FactorizationMachine,
    dataset: Dataset,
    channel: str,
    *,
    classifier: bool,
    device: torch.device,
) -> dict[str, float]:
    scores = _scores(machine, dataset.features, device=device, classifier=classifier)
    labels = dataset.labels
    if not classifier:
        return {f"{channel}:rmse": float(np.sqrt(np.mean((scores - labels) ** 2)))}
    predicted = (scores > 0.5).astype(np.float64)
    return {
        f"{channel}:binary_classification_accuracy": float(np.mean(predicted == labels)),
        f"{channel}:binary_classification_cross_entropy": float(
            skm.log_loss(labels, scores, labels=[0, 1])
        ),
        f"{channel}:binary_f_beta": float(skm.fbeta_score(labels, predicted, beta=1.0)),
    }


def _scores(
    machine: FactorizationMachine,
    features: Any,
    *,
    device: torch.device,
    classifier: bool,
    batch_size: int = 10_000,
) -> np.ndarray:
    outputs = []
    with torch.inference_mode():
        for start in range(0, features.shape[0], batch_size):
            x = feature_batch(features, slice(start, start + batch_size), device)
            output = machine(x)
            outputs.append((torch.sigmoid(output) if classifier else output).cpu().numpy())
    return np.concatenate(outputs).astype(np.float64) if outputs else np.empty(0)


class FactorizationMachineModel(MatrixModel):
    content_types = accepts = FIRST_PARTY_TYPES

    def __init__(self, machine: FactorizationMachine, *, classifier: bool) -> None:
        super().__init__(feature_count=machine.linear.shape[0])
        self.machine = machine.eval()
        self.classifier = classifier

    def predict(self, features: np.ndarray) -> Predictions:
        score = _scores(
            self.machine, features, device=torch.device("cpu"), classifier=self.classifier
        )
        if not self.classifier:
            return Predictions(outputs={"score": score}, csv=("score",))
        return Predictions(
            outputs={"predicted_label": (score > 0.5).astype(np.int64), "score": score},
            csv=("predicted_label",),
        )
