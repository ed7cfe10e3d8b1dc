"""Training a boosting algorithm on several instances: one data shard per Dask worker, LightGBM's
Dask integration training data-parallel across them, one model saved as one machine would save it.
(``xgboost`` trains the same way through ``xgboost.dask``: ``algorithms.distributed_xgboost``.)

Each instance's objects are downloaded and parsed on a worker and stay there
(``algorithms.shards``): LightGBM trains each machine on the rows it holds. LightGBM evaluates
metrics on each machine's own rows, and a machine that stopped early on its own numbers would
leave the others waiting for it, so after every iteration the workers send their results here
and wait: this process reports the global values (row-weighted; exact for the mean-type metrics,
an average of the shards' values for ``auc`` and ``average_precision``), asks the reporter whether
to stop, applies early stopping, and tells every worker the same thing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import lightgbm as lgb
import numpy as np
from distributed import Client
from lightgbm.dask import DaskLGBMRegressor

from algorithms.base import Algorithm, Reporter, TrainingResult
from algorithms.builtin.boosting import (
    BoostingAlgorithm,
    BoostingSetup,
    MetricRecorder,
    check_labels,
)
from algorithms.builtin.xgboost import XGBoost
from algorithms.coordination import CONTINUE, Coordinator, Report, WorkerLink, run_coordinated
from algorithms.distributed_xgboost import train_xgboost_distributed
from algorithms.shards import TRAIN, VALIDATION, ChannelShard, ShardData, load_shards

if TYPE_CHECKING:
    from infra.storage import ObjectStore


def supports_distributed(algorithm: type[Algorithm]) -> bool:
    return issubclass(algorithm, (BoostingAlgorithm, XGBoost))


def train_distributed(
    algorithm: type[Algorithm],
    *,
    shards: list[dict[str, ChannelShard]],
    hyperparameters: dict[str, Any],
    model_dir: Path,
    reporter: Reporter,
    client: Client,
    store: ObjectStore,
    image: str = "",
) -> TrainingResult:
    """Train ``algorithm`` on ``shards`` (one dict of channels per instance) across ``client``'s
    workers and save the model into ``model_dir`` as the single-machine algorithm does (for the
    job's training ``image``)."""
    if not supports_distributed(algorithm):
        raise ValueError(f"{algorithm.name} does not train on several instances")
    if issubclass(algorithm, XGBoost):
        return train_xgboost_distributed(
            shards=shards,
            hyperparameters=hyperparameters,
            model_dir=model_dir,
            reporter=reporter,
            client=client,
            store=store,
            image=image,
        )
    assert issubclass(algorithm, BoostingAlgorithm)
    setup = algorithm.boosting_setup(hyperparameters)
    check = partial(check_labels, objective=setup.objective, num_class=setup.num_class)
    data = load_shards(shards, check=check, client=client, store=store, reporter=reporter)
    booster, result = _train(setup, data, client=client, reporter=reporter)
    algorithm.save_model(
        booster, model_dir, hyperparameters=hyperparameters, feature_count=data.feature_count
    )
    return result


# Training: LightGBM's Dask estimator in a thread, this thread coordinating the iterations.


def _train(
    setup: BoostingSetup, data: ShardData, *, client: Client, reporter: Reporter
) -> tuple[lgb.Booster, TrainingResult]:
    token = f"sagebrush-boosting-{uuid.uuid4().hex}"
    names = list(data.arrays)
    coordinator = _Coordinator(setup, reporter, client=client, validation=VALIDATION in names)
    booster = run_coordinated(
        lambda: _fit(setup, data, names, client=client, token=token),
        coordinator,
        token=token,
        workers=data.workers,
    )
    kept = booster.best_iteration or booster.current_iteration()
    if coordinator.stopped:
        reporter.log(f"stop requested; keeping the {kept} iterations built so far")
    history = coordinator.recorder.history
    return booster, TrainingResult(
        final_metrics=history.get(kept, {}), stopped_early=coordinator.stopped
    )


def _fit(
    setup: BoostingSetup,
    data: ShardData,
    names: list[str],
    *,
    client: Client,
    token: str,
) -> lgb.Booster:
    # The Dask estimator sets each machine's threads from its worker; LightGBM's regressor
    # wrapper passes any objective through (the classifier's would re-encode labels per worker).
    params = {
        key: value
        for key, value in setup.params.items()
        if key not in ("num_threads", "num_thread", "nthread", "nthreads", "n_jobs")
    }
    model = DaskLGBMRegressor(
        client=client, n_estimators=setup.num_boost_round, verbosity=-1, **params
    )
    x, y = data.arrays[TRAIN]
    model.fit(
        x,
        y,
        eval_X=tuple(data.arrays[name][0] for name in names),
        eval_y=tuple(data.arrays[name][1] for name in names),
        eval_names=names,
        callbacks=[_WaitForCoordinator(token)],
    )
    return model.booster_


@dataclass(frozen=True)
class _Results:
    end_iteration: int
    # (data_name, metric, value, is_higher_better, rows) per result, on this machine's rows
    values: tuple[tuple[str, str, float, bool, int], ...]


class _WaitForCoordinator:
    """On every worker after every iteration: send the local results, do as told."""

    order = 10

    def __init__(self, token: str) -> None:
        self.link = WorkerLink(token)
        self.history: dict[int, list[Any]] = {}

    def __call__(self, env: lgb.callback.CallbackEnv) -> None:
        results = env.evaluation_result_list or []
        self.history[env.iteration] = list(results)
        booster = env.model
        rows = {TRAIN: booster.train_set.num_data()}
        rows.update(
            (name, dataset.num_data())
            for name, dataset in zip(booster.name_valid_sets, booster.valid_sets, strict=True)
        )
        decision = self.link.ask(
            env.iteration,
            int(env.params.get("num_machines", 1)),
            _Results(
                end_iteration=env.end_iteration,
                values=tuple(
                    (name, metric, float(value), bool(higher), rows.get(name, 0))
                    for name, metric, value, higher, *_ in results
                ),
            ),
        )
        if decision != CONTINUE:
            raise lgb.callback.EarlyStopException(decision, self.history[decision])


class _Coordinator(Coordinator):
    """Reports LightGBM's global metrics and applies its early stopping for all machines."""

    def __init__(
        self,
        setup: BoostingSetup,
        reporter: Reporter,
        *,
        client: Client,
        validation: bool,
    ) -> None:
        super().__init__(client)
        self.reporter = reporter
        self.recorder = MetricRecorder(reporter, setup.metric_names)
        self.early_stopping_rounds = setup.early_stopping_rounds if validation else None
        self.best: tuple[int, float] | None = None  # (iteration, value) of the watched metric
        self.stopped = False

    def decide(self, iteration: int, reports: list[Report]) -> Any:
        results = _combine([report.results for report in reports])
        self.recorder.record(iteration + 1, results)
        if self.early_stopping_rounds:
            best = self._watch(iteration, results)
            last = iteration == reports[0].results.end_iteration - 1
            if last or iteration - best >= self.early_stopping_rounds:
                return best  # as LightGBM's early stopping: the best iteration is kept
        if self.reporter.should_stop():
            self.stopped = True
            return iteration
        return CONTINUE

    def _watch(self, iteration: int, results: list[tuple[str, str, float, bool]]) -> int:
        """LightGBM's ``first_metric_only`` rule: the first metric, on the validation data."""
        first_metric = results[0][1]
        for name, metric, value, higher in results:
            if name != VALIDATION or metric != first_metric:
                continue
            better = self.best is None or (value > self.best[1] if higher else value < self.best[1])
            if better:
                self.best = (iteration, value)
        return self.best[0] if self.best is not None else iteration


def _combine(reports: list[_Results]) -> list[tuple[str, str, float, bool]]:
    """Every machine's results as one value per (data, metric), weighted by rows.

    LightGBM's metrics are means over rows, except ``rmse`` (a root of one) and the ranking
    metrics ``auc`` and ``average_precision`` (approximated by the weighted mean).
    """
    totals: dict[tuple[str, str], list[float]] = {}
    higher: dict[tuple[str, str], bool] = {}
    for report in reports:
        for name, metric, value, is_higher_better, rows in report.values:
            key = (name, metric)
            total = totals.setdefault(key, [0.0, 0.0])
            total[0] += rows * (value * value if metric == "rmse" else value)
            total[1] += rows
            higher[key] = is_higher_better
    combined = []
    for (name, metric), (weighted, rows) in totals.items():
        value = weighted / rows if rows else float("nan")
        combined.append(
            (
                name,
                metric,
                float(np.sqrt(value) if metric == "rmse" else value),
                higher[(name, metric)],
            )
        )
    return combined
