"""The ``xgboost`` built-in against ``xgboost.train`` on the same CSV, in one process.

Run on demand (the suite does not): ``.venv/bin/python -m tests.benchmarks.bench_xgboost
[--rows 1000000] [--rounds 3]``. Printed side by side, best and median of alternating rounds:

  direct    XGBoost reads the CSV itself (``DMatrix("...?format=csv&label_column=0")``) and
            trains, watching the training set as the built-in does (``evals=[(train, "train")]``);
  built-in  ``XGBoost().train`` on a ``train`` channel holding that file: the platform's CSV
            reader, the metric reporting and logging, the saved ``xgboost-model`` and manifest.

Same hyperparameters, same thread count. The goal compares best with best:
built-in <= 1.15 x direct + 3 s.

Then (``--dask-rounds``, 0 to skip) a several-instance job as the platform trains it: the same rows
in two objects, read and trained by ``algorithms.distributed`` on a Dask LocalCluster of one
single-threaded worker (one instance, both objects), then of two (two instances,
``ShardedByS3Key``: one object each). Goal: two workers >= 1.6 x faster than one. Beside it,
``xgboost.dask.train`` alone on the same rows already in the workers' memory (no reading, no
per-iteration coordination): the most a second worker can give here.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import xgboost as xgb

from algorithms import Channel, parse_hyperparameters, resolve_image
from tests.fakes import QuietReporter

FEATURES = 20
HYPERPARAMETERS = {
    "objective": "binary:logistic",
    "eval_metric": "logloss",
    "eta": "0.1",
    "max_depth": "6",
    "tree_method": "hist",
}


def write_csv(path: Path, rows: int, *, seed: int = 0) -> None:
    """Label in column 0, no header: what both sides read."""
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=FEATURES)
    with path.open("w") as out:
        for start in range(0, rows, 100_000):
            features = rng.normal(size=(min(100_000, rows - start), FEATURES))
            labels = (features @ weights + rng.normal(size=len(features)) > 0).astype(int)
            block = np.column_stack([labels, features])
            np.savetxt(out, block, delimiter=",", fmt=["%d"] + ["%.6f"] * FEATURES)


def direct(path: Path, work: Path, *, num_round: int, threads: int) -> float:
    started = time.perf_counter()
    train = xgb.DMatrix(f"{path}?format=csv&label_column=0")
    params = {
        "objective": "binary:logistic",
        "eval_metric": "logloss",
        "eta": 0.1,
        "max_depth": 6,
        "tree_method": "hist",
        "nthread": threads,
    }
    booster = xgb.train(
        params, train, num_boost_round=num_round, evals=[(train, "train")], verbose_eval=False
    )
    booster.save_model(str(work / "direct.json"))
    return time.perf_counter() - started


def builtin(path: Path, work: Path, *, num_round: int, threads: int) -> float:
    algorithm = resolve_image("xgboost")
    started = time.perf_counter()
    hyperparameters = parse_hyperparameters(
        algorithm, {**HYPERPARAMETERS, "num_round": str(num_round), "nthread": str(threads)}
    )
    algorithm().train(
        channels={"train": Channel("train", path.parent, "text/csv")},
        hyperparameters=hyperparameters,
        model_dir=work / "model",
        reporter=QuietReporter(),
    )
    return time.perf_counter() - started


def on_dask(store, uris: list[str], *, instances: int, num_round: int, work: Path) -> float:
    """A several-instance job's training (reading included) on ``instances`` Dask workers."""
    from distributed import Client, LocalCluster

    from algorithms.distributed import train_distributed
    from algorithms.shards import ChannelShard

    algorithm = resolve_image("xgboost")
    hyperparameters = parse_hyperparameters(
        algorithm, {**HYPERPARAMETERS, "num_round": str(num_round)}
    )
    shards = [
        {"train": ChannelShard("train", tuple(uris[index::instances]), "text/csv")}
        for index in range(instances)
    ]
    with (
        LocalCluster(n_workers=instances, threads_per_worker=1, processes=True) as cluster,
        Client(cluster) as client,
    ):
        started = time.perf_counter()
        train_distributed(
            algorithm,
            shards=shards,
            hyperparameters=hyperparameters,
            model_dir=work,
            reporter=QuietReporter(),
            client=client,
            store=store,
        )
        return time.perf_counter() - started


def library_alone(paths: list[Path], *, instances: int, num_round: int) -> float:
    """``xgboost.dask.train`` by itself on the same rows, already in the workers' memory: the
    ceiling of what the platform's several-instance training can gain from a second worker."""
    import dask.array as da
    import xgboost.dask
    from distributed import Client, LocalCluster

    blocks = [np.loadtxt(path, delimiter=",", dtype=np.float32) for path in paths]
    params = {
        "objective": HYPERPARAMETERS["objective"],
        "eval_metric": HYPERPARAMETERS["eval_metric"],
        "eta": float(HYPERPARAMETERS["eta"]),
        "max_depth": int(HYPERPARAMETERS["max_depth"]),
        "tree_method": HYPERPARAMETERS["tree_method"],
    }
    with (
        LocalCluster(n_workers=instances, threads_per_worker=1, processes=True) as cluster,
        Client(cluster) as client,
    ):
        features = da.concatenate([da.from_array(block[:, 1:]) for block in blocks])
        labels = da.concatenate([da.from_array(block[:, 0]) for block in blocks])
        features, labels = client.persist([features, labels])
        started = time.perf_counter()
        matrix = xgboost.dask.DaskDMatrix(client, features, labels)
        xgboost.dask.train(
            client,
            params,
            matrix,
            num_boost_round=num_round,
            evals=[(matrix, "train")],
            verbose_eval=False,
        )
        return time.perf_counter() - started


def compare_workers(tmp: str, rows: int, *, num_round: int, rounds: int) -> None:
    from infra.storage.local import LocalObjectStore

    store = LocalObjectStore(Path(tmp) / "objects")
    store.create_bucket("bench")
    uris, paths = [], []
    for number in range(2):
        paths.append(Path(tmp) / f"part-{number}.csv")
        write_csv(paths[-1], rows // 2, seed=number)
        uris.append(f"s3://bench/train/part-{number}.csv")
        store.upload_file(str(paths[-1]), uris[-1])
    times: dict[int, list[float]] = {1: [], 2: []}
    alone: dict[int, list[float]] = {1: [], 2: []}
    for number in range(rounds):
        for instances in (1, 2):
            work = Path(tmp) / f"dask-{number}-{instances}"
            times[instances].append(
                on_dask(store, uris, instances=instances, num_round=num_round, work=work)
            )
            alone[instances].append(library_alone(paths, instances=instances, num_round=num_round))
        print(
            f"dask round {number + 1}: 1 worker {times[1][-1]:.2f} s, "
            f"2 workers {times[2][-1]:.2f} s; xgboost.dask alone {alone[1][-1]:.2f} s, "
            f"{alone[2][-1]:.2f} s"
        )
    ratio = min(times[1]) / min(times[2])
    verdict = "met" if ratio >= 1.6 else "MISSED"
    print(
        f"1 worker best {min(times[1]):.2f} s, 2 workers best {min(times[2]):.2f} s: "
        f"{ratio:.2f} x (goal >= 1.6 x): {verdict}; xgboost.dask alone on the same rows, "
        f"in memory, training only: {min(alone[1]) / min(alone[2]):.2f} x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--num-round", type=int, default=100)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of each side")
    parser.add_argument("--dask-rounds", type=int, default=2, help="one against two workers")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-xgboost-") as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        path = data / "train.csv"
        started = time.perf_counter()
        write_csv(path, args.rows)
        size = path.stat().st_size / 1e6
        print(
            f"{args.rows:,} rows x {FEATURES} features, {size:.0f} MB CSV "
            f"(written in {time.perf_counter() - started:.1f} s); "
            f"{args.num_round} rounds, {args.threads} threads"
        )
        times: dict[str, list[float]] = {"direct": [], "built-in": []}
        for number in range(args.rounds):
            work = Path(tmp) / f"run-{number}"
            work.mkdir()
            times["direct"].append(
                direct(path, work, num_round=args.num_round, threads=args.threads)
            )
            times["built-in"].append(
                builtin(path, work, num_round=args.num_round, threads=args.threads)
            )
            print(
                f"round {number + 1}: direct {times['direct'][-1]:.2f} s, "
                f"built-in {times['built-in'][-1]:.2f} s"
            )
    for side, values in times.items():
        print(f"{side:9} best {min(values):7.2f} s   median {statistics.median(values):7.2f} s")
    goal = 1.15 * min(times["direct"]) + 3
    verdict = "met" if min(times["built-in"]) <= goal else "MISSED"
    print(f"goal built-in <= 1.15 x direct + 3 s = {goal:.2f} s: {verdict}")
    if args.dask_rounds:
        with tempfile.TemporaryDirectory(prefix="bench-xgboost-dask-") as tmp:
            compare_workers(tmp, args.rows, num_round=args.num_round, rounds=args.dask_rounds)


if __name__ == "__main__":
    main()
