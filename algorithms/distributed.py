"""Training a boosting algorithm on several instances: one data shard per Dask worker, LightGBM's
Dask integration training data-parallel across them, one model saved as one machine would save it.

Each instance's objects are downloaded and parsed on a worker and stay there
(``algorithms.shards``): LightGBM trains each machine on the rows it holds. LightGBM evaluates
metrics on each machine's own rows, and a machine that stopped early on its own numbers would
leave the others waiting for it, so after every iteration the workers send their results here
and wait: this process reports the global values (row-weighted; exact for the mean-type metrics,
an average of the shards' values for ``auc`` and ``average_precision``), asks the reporter whether
to stop, applies early stopping, and tells every worker the same thing.
"""

from __future__ import annotations

import threading
import uuid
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import lightgbm as lgb
import numpy as np
from distributed import Client, Queue, get_client, get_worker
from lightgbm.dask import DaskLGBMRegressor

from algorithms.base import Algorithm, Reporter, TrainingResult
from algorithms.builtin.boosting import BoostingAlgorithm, BoostingSetup, MetricRecorder
from algorithms.shards import TRAIN, VALIDATION, ChannelShard, ShardData, load_shards

if TYPE_CHECKING:
    from infra.storage import ObjectStore

# How long a worker waits for this process's word after an iteration before giving up; far
# beyond the moment it takes, so that only a vanished coordinator trips it.
DECISION_TIMEOUT_S = 1800
_CONTINUE, _ABORT, _DONE = "continue", "abort", "done"


def supports_distributed(algorithm: type[Algorithm]) -> bool:
    return issubclass(algorithm, BoostingAlgorithm)


def train_distributed(
    algorithm: type[Algorithm],
    *,
    shards: list[dict[str, ChannelShard]],
    hyperparameters: dict[str, Any],
    model_dir: Path,
    reporter: Reporter,
    client: Client,
    store: ObjectStore,
) -> TrainingResult:
    """Train ``algorithm`` on ``shards`` (one dict of channels per instance) across ``client``'s
    workers and save the model into ``model_dir`` as the single-machine algorithm does."""
    if not supports_distributed(algorithm):
        raise ValueError(f"{algorithm.name} does not train on several instances")
    assert issubclass(algorithm, BoostingAlgorithm)
    setup = algorithm.boosting_setup(hyperparameters)
    data = load_shards(shards, setup=setup, client=client, store=store, reporter=reporter)
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
    outcome: dict[str, Any] = {}

    reports = Queue(f"{token}-reports", client=client)

    def fit() -> None:
        try:
            outcome["booster"] = _fit(setup, data, names, client=client, token=token)
        except BaseException as error:  # re-raised in the calling thread
            outcome["error"] = error
        finally:
            reports.put(_DONE)

    coordinator = _Coordinator(setup, reporter, client=client, validation=VALIDATION in names)
    thread = threading.Thread(target=fit, name="lightgbm-dask-fit", daemon=True)
    thread.start()
    try:
        _serve(reports, coordinator.receive)
    except BaseException:
        # This thread failed (the reporter, say): every worker still training is told to end.
        coordinator.abort()
        _serve(reports, coordinator.refuse)
        raise
    finally:
        thread.join()
        coordinator.close()
        reports.close()
    if "error" in outcome:
        raise outcome["error"]
    booster = outcome["booster"]
    kept = booster.best_iteration or booster.current_iteration()
    if coordinator.stopped:
        reporter.log(f"stop requested; keeping the {kept} iterations built so far")
    history = coordinator.recorder.history
    return booster, TrainingResult(
        final_metrics=history.get(kept, {}), stopped_early=coordinator.stopped
    )


def _serve(reports: Any, handle: Any) -> None:
    """Hand each worker's report to ``handle`` until training has ended."""
    # No timeout: a timed-out get is logged as an error by the scheduler.
    while (report := reports.get()) != _DONE:
        handle(report)


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
class _Report:
    iteration: int  # 0-based, as LightGBM counts
    end_iteration: int
    machines: int
    reply_to: str  # the worker's queue
    # (data_name, metric, value, is_higher_better, rows) per result, on this machine's rows
    results: tuple[tuple[str, str, float, bool, int], ...]


class _WaitForCoordinator:
    """On every worker after every iteration: send the local results, do as told."""

    order = 10

    def __init__(self, token: str) -> None:
        self.token = token
        self.history: dict[int, list[Any]] = {}
        self._queues: tuple[Any, Any] | None = None

    def __call__(self, env: lgb.callback.CallbackEnv) -> None:
        if self._queues is None:
            client = get_client()
            reply_to = f"{self.token}-{get_worker().address}"
            self._queues = (
                Queue(f"{self.token}-reports", client=client),
                Queue(reply_to, client=client),
            )
        reports, replies = self._queues
        results = env.evaluation_result_list or []
        self.history[env.iteration] = list(results)
        booster = env.model
        rows = {TRAIN: booster.train_set.num_data()}
        rows.update(
            (name, dataset.num_data())
            for name, dataset in zip(booster.name_valid_sets, booster.valid_sets, strict=True)
        )
        reports.put(
            _Report(
                iteration=env.iteration,
                end_iteration=env.end_iteration,
                machines=int(env.params.get("num_machines", 1)),
                reply_to=replies.name,
                results=tuple(
                    (name, metric, float(value), bool(higher), rows.get(name, 0))
                    for name, metric, value, higher, *_ in results
                ),
            )
        )
        decision = replies.get(timeout=DECISION_TIMEOUT_S)
        if decision == _CONTINUE:
            return
        if decision == _ABORT:
            raise RuntimeError("training was ended by the coordinating process")
        raise lgb.callback.EarlyStopException(decision, self.history[decision])


class _Coordinator:
    """Gathers each iteration's reports, reports global metrics, decides for all machines."""

    def __init__(
        self,
        setup: BoostingSetup,
        reporter: Reporter,
        *,
        client: Client,
        validation: bool,
    ) -> None:
        self.reporter = reporter
        self.client = client
        self.recorder = MetricRecorder(reporter, setup.metric_names)
        self.early_stopping_rounds = setup.early_stopping_rounds if validation else None
        self.pending: dict[int, list[_Report]] = defaultdict(list)
        self.replies: dict[str, Any] = {}
        self.best: tuple[int, float] | None = None  # (iteration, value) of the watched metric
        self.stopped = False

    def receive(self, report: _Report) -> None:
        reports = self.pending[report.iteration]
        reports.append(report)
        if len(reports) < report.machines:
            return
        decision = self._decide(report.iteration, report.end_iteration, reports)
        for each in reports:
            self._reply(each, decision)
        del self.pending[report.iteration]

    def _decide(self, iteration: int, end_iteration: int, reports: list[_Report]) -> Any:
        results = _combine(reports)
        self.recorder.record(iteration + 1, results)
        if self.early_stopping_rounds:
            best = self._watch(iteration, results)
            last = iteration == end_iteration - 1
            if last or iteration - best >= self.early_stopping_rounds:
                return best  # as LightGBM's early stopping: the best iteration is kept
        if self.reporter.should_stop():
            self.stopped = True
            return iteration
        return _CONTINUE

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

    def abort(self) -> None:
        """Tell the workers waiting for a decision to end."""
        for reports in self.pending.values():
            for report in reports:
                self._reply(report, _ABORT)
        self.pending.clear()

    def refuse(self, report: _Report) -> None:
        """After :meth:`abort`: whoever reports next is told to end too."""
        self._reply(report, _ABORT)

    def _reply(self, report: _Report, decision: Any) -> None:
        if report.reply_to not in self.replies:
            self.replies[report.reply_to] = Queue(report.reply_to, client=self.client)
        self.replies[report.reply_to].put(decision)

    def close(self) -> None:
        for queue in self.replies.values():
            queue.close()


def _combine(reports: list[_Report]) -> list[tuple[str, str, float, bool]]:
    """Every machine's results as one value per (data, metric), weighted by rows.

    LightGBM's metrics are means over rows, except ``rmse`` (a root of one) and the ranking
    metrics ``auc`` and ``average_precision`` (approximated by the weighted mean).
    """
    totals: dict[tuple[str, str], list[float]] = {}
    higher: dict[tuple[str, str], bool] = {}
    for report in reports:
        for name, metric, value, is_higher_better, rows in report.results:
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
