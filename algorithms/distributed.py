"""Training a boosting algorithm on several instances: one data shard per Dask worker, LightGBM's
Dask integration training data-parallel across them, one model saved as one machine would save it.

Each instance's objects are downloaded and parsed on a worker (errors name the object, line and
column), and stay there: LightGBM trains each machine on the rows it holds. LightGBM evaluates
metrics on each machine's own rows, and a machine that stopped early on its own numbers would
leave the others waiting for it, so after every iteration the workers send their results here
and wait: this process reports the global values (row-weighted; exact for the mean-type metrics,
an average of the shards' values for ``auc`` and ``average_precision``), asks the reporter whether
to stop, applies early stopping, and tells every worker the same thing.
"""

from __future__ import annotations

import tempfile
import threading
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse

from algorithms.base import Algorithm, Channel, DataError, Reporter, TrainingResult
from algorithms.builtin.boosting import (
    READ_OPTIONS,
    BoostingAlgorithm,
    BoostingSetup,
    MetricRecorder,
    check_labels,
)
from algorithms.codecs import LIBSVM, split_content_type
from algorithms.data import Dataset, read_channel, split_channels

if TYPE_CHECKING:
    import distributed
    import lightgbm as lgb

    from infra.storage import ObjectStore

TRAIN, VALIDATION = "train", "validation"
# How long a worker waits for this process's word after an iteration before giving up; far
# beyond the moment it takes, so that only a vanished coordinator trips it.
DECISION_TIMEOUT_S = 1800
_CONTINUE, _ABORT, _DONE = "continue", "abort", "done"


@dataclass(frozen=True)
class ChannelShard:
    name: str  # "train", "validation"
    uris: tuple[str, ...]  # the s3:// objects this instance reads (all of them: FullyReplicated)
    content_type: str  # text/csv | application/jsonlines | text/libsvm (gzip by magic bytes)


def supports_distributed(algorithm: type[Algorithm]) -> bool:
    return issubclass(algorithm, BoostingAlgorithm)


def train_distributed(
    algorithm: type[Algorithm],
    *,
    shards: list[dict[str, ChannelShard]],
    hyperparameters: dict[str, Any],
    model_dir: Path,
    reporter: Reporter,
    client: distributed.Client,
    store: ObjectStore,
) -> TrainingResult:
    """Train ``algorithm`` on ``shards`` (one dict of channels per instance) across ``client``'s
    workers and save the model into ``model_dir`` as the single-machine algorithm does."""
    if not supports_distributed(algorithm):
        raise ValueError(f"{algorithm.name} does not train on several instances")
    assert issubclass(algorithm, BoostingAlgorithm)
    setup = algorithm.boosting_setup(hyperparameters)
    data = _load_shards(shards, setup=setup, client=client, store=store, reporter=reporter)
    booster, result = _train(setup, data, client=client, reporter=reporter)
    algorithm.save_model(
        booster, model_dir, hyperparameters=hyperparameters, feature_count=data.feature_count
    )
    return result


# Reading: one task per instance, on its own worker.


@dataclass
class _Data:
    """The shards as Dask arrays whose chunks live on the workers that read them."""

    feature_count: int
    arrays: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # channel -> (X, y)


def _load_shards(
    shards: list[dict[str, ChannelShard]],
    *,
    setup: BoostingSetup,
    client: distributed.Client,
    store: ObjectStore,
    reporter: Reporter,
) -> _Data:
    import dask.array as da

    if not shards:
        raise ValueError("no instances to train on")
    names = [name for name, _ in _channel_names(shards[0])]
    workers = sorted(client.scheduler_info(n_workers=-1)["workers"])
    if not workers:
        raise RuntimeError("the Dask cluster has no workers")
    reporter.log(f"Reading {len(shards)} shards on {len(workers)} Dask workers")
    placed = [workers[index % len(workers)] for index in range(len(shards))]
    read = [
        client.submit(
            _read_shard,
            index,
            shard,
            store,
            setup.objective,
            setup.num_class,
            workers=[worker],
            allow_other_workers=False,
            pure=False,
        )
        for index, (shard, worker) in enumerate(zip(shards, placed, strict=True))
    ]
    shapes = client.gather(
        [
            client.submit(_shapes, future, workers=[w])
            for future, w in zip(read, placed, strict=True)
        ]
    )
    feature_count, sparse_input = _feature_count(shards, shapes)
    data = _Data(feature_count=feature_count)
    for name in names:
        x_parts, y_parts = [], []
        for future, worker, shape in zip(read, placed, shapes, strict=True):
            if name not in shape:
                continue
            rows = shape[name][0]
            x = client.submit(_features, future, name, feature_count, workers=[worker])
            y = client.submit(_labels, future, name, workers=[worker])
            meta = sparse.csr_matrix((0, feature_count)) if sparse_input else np.empty((0, 0))
            x_parts.append(da.from_delayed(x, shape=(rows, feature_count), meta=meta))
            y_parts.append(da.from_delayed(y, shape=(rows,), dtype=np.float64))
        if x_parts:
            data.arrays[name] = (da.concatenate(x_parts), da.concatenate(y_parts))
    if TRAIN not in data.arrays:
        raise DataError("channel has no records", source=TRAIN)
    for name, (x, _) in data.arrays.items():
        reporter.log(f"Channel {name}: {x.shape[0]} records in {x.numblocks[0]} shards")
    return data


def _channel_names(shard: dict[str, ChannelShard]) -> list[tuple[str, ChannelShard]]:
    """``train`` and the evaluation channel, refusing others as the single-machine path does."""
    train, validation = split_channels(shard)  # type: ignore[arg-type]
    return [(TRAIN, train)] + ([(VALIDATION, validation)] if validation is not None else [])


def _feature_count(
    shards: list[dict[str, ChannelShard]], shapes: list[dict[str, tuple[int, int]]]
) -> tuple[int, bool]:
    """The model's feature count: every dense shard's, or the widest libsvm train shard's."""
    media_type, _ = split_content_type(shards[0][TRAIN].content_type)
    widths = [(index, shape[TRAIN][1]) for index, shape in enumerate(shapes) if TRAIN in shape]
    if not widths:
        raise DataError("channel has no records", source=TRAIN)
    count = max(width for _, width in widths) if media_type == LIBSVM else widths[0][1]
    for index, shape in enumerate(shapes):
        for name, (_, width) in shape.items():
            if width == count or (media_type == LIBSVM and width < count):
                continue
            first = shards[index][name].uris[0]
            raise DataError(
                f"{name} data of instance {index + 1} has {width} features; "
                f"the train data of instance {widths[0][0] + 1} has {count}",
                source=f"{name} shard starting at {first}",
            )
    return count, media_type == LIBSVM


def _read_shard(
    index: int, shard: dict[str, ChannelShard], store: ObjectStore, objective: str, num_class: int
) -> dict[str, Dataset]:
    """On a worker: the instance's channels that have records, read and label-checked."""
    try:
        datasets: dict[str, Dataset] = {}
        for name, channel in _channel_names(shard):
            train = datasets.get(TRAIN)
            dense_train = train is not None and not sparse.issparse(train.features)
            dataset = _read_objects(
                channel, store, feature_count=train.feature_count if dense_train else None
            )
            if dataset is not None:
                where = f"{name} shard of instance {index + 1}"
                check_labels(dataset, objective=objective, num_class=num_class, source=where)
                datasets[name] = dataset
        return datasets
    except DataError as error:
        raise _PortableDataError(
            error.message, source=error.source, line=error.line, column=error.column
        ) from None


def _read_objects(
    channel: ChannelShard, store: ObjectStore, *, feature_count: int | None
) -> Dataset | None:
    """The objects parsed as ``read_channel`` parses a channel, errors naming each object's URI;
    ``None`` when the shard holds no records."""
    if not channel.uris:
        return None
    with tempfile.TemporaryDirectory(prefix="sagebrush-shard-") as directory:
        # One folder per object, numbered: kept in the given order, and keys that are also
        # prefixes of other keys ("a", "a/b") cannot collide on disk.
        sources = {}
        for number, uri in enumerate(channel.uris):
            relative = f"{number:08d}/{uri.rsplit('/', 1)[-1]}"
            store.download_file(uri, str(Path(directory) / relative))
            sources[f"{channel.name}/{relative}"] = uri
        local = Channel(name=channel.name, path=Path(directory), content_type=channel.content_type)
        try:
            return read_channel(local, feature_count=feature_count, **READ_OPTIONS)
        except DataError as error:
            if error.source == channel.name and error.message.startswith("channel has no"):
                return None  # other instances may have records; none at all is checked later
            raise DataError(
                error.message,
                source=sources.get(error.source or "", error.source),
                line=error.line,
                column=error.column,
            ) from None


def _shapes(datasets: dict[str, Dataset]) -> dict[str, tuple[int, int]]:
    return {name: (d.rows, d.feature_count) for name, d in datasets.items()}


def _features(datasets: dict[str, Dataset], name: str, feature_count: int) -> Any:
    features = datasets[name].features
    if sparse.issparse(features) and features.shape[1] != feature_count:
        features = sparse.csr_matrix(features)
        features.resize((features.shape[0], feature_count))
    return features


def _labels(datasets: dict[str, Dataset], name: str) -> np.ndarray:
    return np.asarray(datasets[name].labels, dtype=np.float64)


class _PortableDataError(DataError):
    """A DataError that crosses a process boundary whole (its location included)."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (_data_error, (self.message, self.source, self.line, self.column))


def _data_error(message: str, source: str | None, line: int | None, column: int | None):
    return DataError(message, source=source, line=line, column=column)


# Training: LightGBM's Dask estimator in a thread, this thread coordinating the iterations.


def _train(
    setup: BoostingSetup, data: _Data, *, client: distributed.Client, reporter: Reporter
) -> tuple[lgb.Booster, TrainingResult]:
    from distributed import Queue

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
    setup: BoostingSetup, data: _Data, names: list[str], *, client: distributed.Client, token: str
) -> lgb.Booster:
    from lightgbm.dask import DaskLGBMRegressor

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
        import lightgbm as lgb
        from distributed import Queue, get_client, get_worker

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
        client: distributed.Client,
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
        from distributed import Queue

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
