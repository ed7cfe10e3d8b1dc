"""``mlp``: a multilayer perceptron in torch for binary, multiclass and regression problems.

Features (and a regressor's labels) are standardised with the train channel's statistics, which
travel in the model file. ReLU hidden layers of ``hidden_sizes``, Adam, per-epoch ``train:loss``
plus ``validation:loss`` and ``validation:accuracy`` or ``validation:rmse``. With a validation
channel the epoch with the lowest validation loss is kept (losses are on standardised labels;
``validation:rmse`` is in the labels' own units), and ``early_stopping_patience`` epochs
without improvement end training. Outputs ``predicted_label`` and ``score`` for classifiers
(class-1 probability, or all class probabilities), ``score`` for regressors; a CSV line carries
the label for classifiers and the score for regressors.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import torch

from algorithms.base import (
    Algorithm,
    Channel,
    DataError,
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
from algorithms.manifest import write_manifest
from algorithms.predictor import MatrixModel
from algorithms.registry import register

PREDICTOR_TYPES = ("binary_classifier", "multiclass_classifier", "regressor")
_EVAL_ROWS = 8192


@register("mlp")
class MLP(Algorithm):
    metrics = (
        "train:loss",
        "validation:loss",
        "validation:accuracy",
        "validation:rmse",
    )
    hyperparameters = (
        Hyperparameter("predictor_type", "str", required=True, choices=PREDICTOR_TYPES),
        Hyperparameter("num_classes", "int", None, min=3, max=100_000),
        Hyperparameter(
            "hidden_sizes", "str", "64,32", description="units per hidden layer, e.g. 64,32"
        ),
        Hyperparameter("epochs", "int", 10, min=1),
        Hyperparameter("learning_rate", "float", 0.001, min=0, min_exclusive=True),
        Hyperparameter("mini_batch_size", "int", 128, min=1),
        Hyperparameter("dropout", "float", 0.0, min=0, max=0.99),
        Hyperparameter("weight_decay", "float", 0.0, min=0),
        Hyperparameter(
            "early_stopping_patience",
            "int",
            None,
            min=1,
            description="epochs without validation improvement before stopping",
        ),
        Hyperparameter("seed", "int", None, min=0),
    )

    @classmethod
    def check_hyperparameters(cls, values: dict[str, Any]) -> None:
        parse_hidden_sizes(values["hidden_sizes"])
        multiclass = values["predictor_type"] == "multiclass_classifier"
        if multiclass and values["num_classes"] is None:
            raise HyperparameterError("num_classes", "is required for multiclass_classifier")
        if not multiclass and values["num_classes"] is not None:
            raise HyperparameterError("num_classes", "applies only to multiclass_classifier")

    def train(
        self,
        *,
        channels: dict[str, Channel],
        hyperparameters: dict[str, Any],
        model_dir: Path,
        reporter: Reporter,
    ) -> TrainingResult:
        hp = hyperparameters
        train_channel, validation_channel = split_channels(channels)
        train = read_channel(train_channel)
        validation = validation_channel and read_channel(
            validation_channel, feature_count=train.feature_count
        )
        task = Task(hp["predictor_type"], hp["num_classes"])
        task.check_labels(train, source=train_channel.name)
        if validation is not None:
            task.check_labels(validation, source=validation_channel.name)

        limit_cpu_threads()
        seed, generator = seed_everything(hp["seed"])
        device = training_device()
        reporter.log(f"training on {device} with seed {seed}")
        scaling = Scaling.fit(train, regressor=task.regressor)
        architecture = {
            "feature_count": train.feature_count,
            "hidden_sizes": parse_hidden_sizes(hp["hidden_sizes"]),
            "outputs": task.outputs,
            "dropout": hp["dropout"],
        }
        network = build_network(**architecture).to(device)
        optimizer = torch.optim.Adam(
            network.parameters(), lr=hp["learning_rate"], weight_decay=hp["weight_decay"]
        )
        features = scaling.features(train.features)
        targets = task.targets(scaling.labels(train.labels), device)

        best: tuple[float, dict[str, torch.Tensor] | None, dict[str, float]] = (np.inf, None, {})
        stale_epochs, stopped = 0, False
        for epoch in range(1, hp["epochs"] + 1):
            network.train()
            total = 0.0
            for rows in shuffled_batches(train.rows, hp["mini_batch_size"], generator):
                loss = task.loss(
                    network(feature_batch(features, rows, device)), targets[rows.to(device)]
                )
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += loss.item() * len(rows)
            metrics = {"train:loss": total / train.rows}
            if validation is not None:
                metrics |= task.evaluate(network, scaling, validation, device)
            for name, value in metrics.items():
                reporter.metric(name, value, step=epoch)
            reporter.log(f"epoch {epoch}: " + " ".join(f"{k}={v:.6g}" for k, v in metrics.items()))
            watched = metrics.get("validation:loss", metrics["train:loss"])
            if best[1] is None or watched < best[0]:
                best, stale_epochs = (watched, copy.deepcopy(network.state_dict()), metrics), 0
            else:
                stale_epochs += 1
            patience = hp["early_stopping_patience"]
            if validation is not None and patience is not None and stale_epochs >= patience:
                kept = epoch - stale_epochs
                reporter.log(f"no improvement for {stale_epochs} epochs; keeping epoch {kept}")
                break
            if reporter.should_stop():
                stopped = epoch < hp["epochs"]
                break

        _, state, final_metrics = best
        network.load_state_dict(state)
        save_model(
            model_dir,
            module=network,
            architecture=architecture,
            scaling=scaling.saved(),
            predictor_type=task.predictor_type,
        )
        write_manifest(
            model_dir,
            algorithm=self.name,
            hyperparameters=hp,
            feature_count=train.feature_count,
            libraries=LIBRARIES,
            details={"seed": seed},
        )
        return TrainingResult(final_metrics=final_metrics, stopped_early=stopped)

    @classmethod
    def load(cls, model_dir: Path) -> Model:
        saved = load_saved(model_dir)
        network = build_network(**saved["architecture"])
        network.load_state_dict(saved["state_dict"])
        return MLPModel(
            network.eval(), Scaling(**saved["scaling"]), predictor_type=saved["predictor_type"]
        )


def parse_hidden_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        raise HyperparameterError(
            "hidden_sizes", f"must be comma-separated positive integers, e.g. 64,32 (got {text!r})"
        )
    return sizes


def build_network(
    *, feature_count: int, hidden_sizes: list[int], outputs: int, dropout: float
) -> torch.nn.Sequential:
    layers: list[torch.nn.Module] = []
    width = feature_count
    for size in hidden_sizes:
        layers += [torch.nn.Linear(width, size), torch.nn.ReLU()]
        if dropout:
            layers.append(torch.nn.Dropout(dropout))
        width = size
    layers.append(torch.nn.Linear(width, outputs))
    return torch.nn.Sequential(*layers)


class Scaling:
    """Standardisation learnt on the train channel; constant columns are left as they are."""

    def __init__(
        self, *, mean: list[float], scale: list[float], label_mean: float, label_scale: float
    ) -> None:
        self.mean = np.asarray(mean)
        self.scale = np.asarray(scale)
        self.label_mean = label_mean
        self.label_scale = label_scale

    @classmethod
    def fit(cls, dataset: Dataset, *, regressor: bool) -> Scaling:
        scale = dataset.features.std(axis=0)
        label_scale = float(dataset.labels.std()) if regressor else 1.0
        return cls(
            mean=dataset.features.mean(axis=0).tolist(),
            scale=np.where(scale > 0, scale, 1.0).tolist(),
            label_mean=float(dataset.labels.mean()) if regressor else 0.0,
            label_scale=label_scale if label_scale > 0 else 1.0,
        )

    def features(self, features: np.ndarray) -> np.ndarray:
        return ((features - self.mean) / self.scale).astype(np.float32)

    def labels(self, labels: np.ndarray) -> np.ndarray:
        return (labels - self.label_mean) / self.label_scale

    def unscale(self, scores: np.ndarray) -> np.ndarray:
        return scores * self.label_scale + self.label_mean

    def saved(self) -> dict[str, Any]:
        return {
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "label_mean": self.label_mean,
            "label_scale": self.label_scale,
        }


class Task:
    """What differs between predictor types: outputs, loss, label checks and metrics."""

    def __init__(self, predictor_type: str, num_classes: int | None) -> None:
        self.predictor_type = predictor_type
        self.regressor = predictor_type == "regressor"
        self.classes = num_classes or 2
        self.outputs = self.classes if predictor_type == "multiclass_classifier" else 1

    def check_labels(self, dataset: Dataset, *, source: str) -> None:
        if self.predictor_type == "binary_classifier":
            check_binary_labels(dataset, source=source)
        elif self.predictor_type == "multiclass_classifier":
            labels = dataset.labels
            bad = (labels < 0) | (labels >= self.classes) | (labels != np.floor(labels))
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                raise DataError(
                    f"label {labels[row]!r} in record {row + 1} is not a class index "
                    f"(0 to {self.classes - 1})",
                    source=source,
                )

    def targets(self, labels: np.ndarray, device: torch.device) -> torch.Tensor:
        dtype = torch.int64 if self.outputs > 1 else torch.float32
        return torch.as_tensor(labels, dtype=dtype, device=device)

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if self.outputs > 1:
            return torch.nn.functional.cross_entropy(outputs, targets)
        if self.regressor:
            return torch.nn.functional.mse_loss(outputs.squeeze(1), targets)
        return torch.nn.functional.binary_cross_entropy_with_logits(outputs.squeeze(1), targets)

    def evaluate(
        self, network: torch.nn.Module, scaling: Scaling, dataset: Dataset, device: torch.device
    ) -> dict[str, float]:
        network.eval()
        with torch.inference_mode():
            features = scaling.features(dataset.features)
            # In slices, so that a large validation channel never needs one huge activation.
            outputs = torch.cat(
                [
                    network(feature_batch(features, slice(start, start + _EVAL_ROWS), device))
                    for start in range(0, dataset.rows, _EVAL_ROWS)
                ]
            )
            targets = self.targets(scaling.labels(dataset.labels), device)
            metrics = {"validation:loss": self.loss(outputs, targets).item()}
            if self.regressor:
                scores = scaling.unscale(outputs.squeeze(1).cpu().numpy().astype(np.float64))
                rmse = float(np.sqrt(np.mean((scores - dataset.labels) ** 2)))
                return metrics | {"validation:rmse": rmse}
            labels = outputs.argmax(1) if self.outputs > 1 else (outputs.squeeze(1) > 0).long()
            accuracy = float(np.mean(labels.cpu().numpy() == dataset.labels))
            return metrics | {"validation:accuracy": accuracy}


class MLPModel(MatrixModel):
    def __init__(
        self, network: torch.nn.Sequential, scaling: Scaling, *, predictor_type: str
    ) -> None:
        super().__init__(feature_count=len(scaling.mean))
        self.network = network
        self.scaling = scaling
        self.outputs = network[-1].out_features
        self.regressor = predictor_type == "regressor"

    def predict(self, features: np.ndarray) -> Predictions:
        with torch.inference_mode():
            x = torch.from_numpy(self.scaling.features(features))
            outputs = self.network(x).numpy().astype(np.float64)
        if self.outputs > 1:
            probabilities = _softmax(outputs)
            return Predictions(
                outputs={"predicted_label": probabilities.argmax(1), "score": probabilities},
                csv=("predicted_label",),
            )
        if self.regressor:
            return Predictions(
                outputs={"score": self.scaling.unscale(outputs[:, 0])}, csv=("score",)
            )
        score = 1.0 / (1.0 + np.exp(-outputs[:, 0]))
        return Predictions(
            outputs={"predicted_label": (score > 0.5).astype(np.int64), "score": score},
            csv=("predicted_label",),
        )


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)
