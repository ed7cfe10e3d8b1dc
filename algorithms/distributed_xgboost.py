"""``xgboost`` on several instances: ``xgboost.dask`` trains one model across the Dask workers,
each instance's shard staying on the worker that read it (``algorithms.shards``).

XGBoost computes its own metrics over every machine's rows (it sums them across the workers), so
they are the values one machine would print; the container's extra metrics (``accuracy``,
``f1`` ...) are computed by each machine on its rows and averaged. After every iteration the
workers report to this process, which logs and reports the metrics as the single-machine job
does, applies XGBoost's early-stopping rule and the user's stop request, and answers every
machine at once (``algorithms.coordination``). The model saved is the single-machine layout.
"""

from __future__ import annotations

import uuid
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import xgboost as xgb
import xgboost.dask
from distributed import Client

from algorithms.base import AlgorithmError, Reporter, TrainingResult
from algorithms.builtin.xgboost import (
    CONTAINER_METRICS,
    IterationRecorder,
    booster_params,
    check_dataset_labels,
    container_metrics,
    eval_metrics,
    higher_is_better,
    save_model,
    xgboost_message,
)
from algorithms.builtin.xgboost_container import pickles_model
from algorithms.codecs import CSV, split_content_type
from algorithms.coordination import CONTINUE, Coordinator, Report, WorkerLink, run_coordinated
from algorithms.shards import TRAIN, VALIDATION, ChannelShard, ShardData, load_shards

if TYPE_CHECKING:
    from infra.storage import ObjectStore

_STOP = "stop"


def train_xgboost_distributed(
    *,
    shards: list[dict[str, ChannelShard]],
    hyperparameters: dict[str, Any],
    model_dir: Path,
    reporter: Reporter,
    client: Client,
    store: ObjectStore,
    image: str = "",
) -> TrainingResult:
    hp = hyperparameters
    params = booster_params(hp)
    metrics = eval_metrics(hp)
    check = partial(check_dataset_labels, params=params)
    data = load_shards(shards, check=check, client=client, store=store, reporter=reporter)
    media_type, _ = split_content_type(shards[0][TRAIN].content_type)
    weighted = bool(hp["csv_weights"]) and media_type == CSV
    matrices = _matrices(data, client=client, weighted=weighted)
    validation = VALIDATION in matrices
    token = f"sagebrush-xgboost-{uuid.uuid4().hex}"
    coordinator = _Coordinator(
        reporter,
        client=client,
        early_stopping_rounds=hp["early_stopping_rounds"] if validation else None,
        watched=f"{VALIDATION}:{metrics[-1]}" if metrics else None,
    )
    custom = [m for m in metrics if m in CONTAINER_METRICS]

    def fit() -> dict[str, Any]:
        return xgb.dask.train(
            client,
            params,
            matrices[TRAIN],
            num_boost_round=hp["num_round"],
            evals=[(matrix, name) for name, matrix in matrices.items()],
            custom_metric=container_metrics(custom, params["objective"]) if custom else None,
            callbacks=[_AskCoordinator(token)],
            verbose_eval=False,
        )

    try:
        outcome = run_coordinated(fit, coordinator, token=token, workers=data.workers)
        booster: xgb.Booster = outcome["booster"]
    except xgb.core.XGBoostError as error:
        raise AlgorithmError(f"XGBoost: {xgboost_message(error)}") from None
    kept = booster.num_boosted_rounds()
    if coordinator.best is not None and params.get("booster") != "gblinear":
        kept = coordinator.best[0] + 1  # XGBoost's save_best: the best iteration is the model
        booster = booster[:kept]
    if coordinator.stopped:
        reporter.log(f"stop requested; keeping the {kept} iterations built so far")
    save_model(booster, model_dir, hyperparameters=hp, pickled=pickles_model(image))
    return TrainingResult(
        final_metrics=coordinator.recorder.history.get(kept, {}), stopped_early=coordinator.stopped
    )


def _matrices(data: ShardData, *, client: Client, weighted: bool) -> dict[str, Any]:
    """A DaskDMatrix per channel; with ``csv_weights`` the column after the label weighs rows."""
    matrices = {}
    for name, (x, y) in data.arrays.items():
        weight = None
        if weighted:
            weight, x = x[:, 0], x[:, 1:]
        matrices[name] = xgb.dask.DaskDMatrix(client, x, y, weight=weight, missing=np.nan)
    return matrices


class _AskCoordinator(xgb.callback.TrainingCallback):
    """On every worker after every iteration: send its metric values, stop when told."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.link = WorkerLink(token)

    def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
        values = {
            f"{data_name}:{metric}": float(history[-1])
            for data_name, metrics in evals_log.items()
            for metric, history in metrics.items()
        }
        decision = self.link.ask(epoch, xgb.collective.get_world_size(), values)
        return decision != CONTINUE


class _Coordinator(Coordinator):
    """Reports each iteration's metrics and decides for all machines: XGBoost's early stopping
    (the watched validation metric not better for ``early_stopping_rounds`` iterations) and the
    reporter's stop request."""

    def __init__(
        self,
        reporter: Reporter,
        *,
        client: Client,
        early_stopping_rounds: int | None,
        watched: str | None,  # None: the validation set's last metric, as XGBoost watches
    ) -> None:
        super().__init__(client)
        self.reporter = reporter
        self.recorder = IterationRecorder(reporter)
        self.early_stopping_rounds = early_stopping_rounds
        self.watched = watched
        self.best: tuple[int, float] | None = None  # (iteration, value)
        self.stopped = False

    def decide(self, iteration: int, reports: list[Report]) -> Any:
        values = {
            name: float(np.mean([report.results[name] for report in reports]))
            for name in reports[0].results
        }
        self.recorder.record(iteration, values)
        if self.early_stopping_rounds and self._watch(iteration, values):
            return _STOP
        if self.reporter.should_stop():
            self.stopped = True
            return _STOP
        return CONTINUE

    def _watch(self, iteration: int, values: dict[str, float]) -> bool:
        """Whether the watched metric has not improved for ``early_stopping_rounds``."""
        watched = self.watched or [n for n in values if n.startswith(f"{VALIDATION}:")][-1]
        value = values[watched]
        maximize = higher_is_better(watched.partition(":")[2])
        if self.best is None or (value > self.best[1] if maximize else value < self.best[1]):
            self.best = (iteration, value)
        assert self.early_stopping_rounds is not None
        return iteration - self.best[0] >= self.early_stopping_rounds
