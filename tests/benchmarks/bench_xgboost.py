"""The ``xgboost`` built-in against ``xgboost.train`` on the same CSV, in one process.

Run on demand (the suite does not): ``.venv/bin/python -m tests.benchmarks.bench_xgboost
[--rows 1000000] [--rounds 3]``. Printed side by side, best and median of alternating rounds:

  direct    XGBoost reads the CSV itself (``DMatrix("...?format=csv&label_column=0")``) and
            trains, watching the training set as the built-in does (``evals=[(train, "train")]``);
  built-in  ``XGBoost().train`` on a ``train`` channel holding that file: the platform's CSV
            reader, the metric reporting and logging, the saved ``xgboost-model`` and manifest.

Same hyperparameters, same thread count. The goal compares best with best:
built-in <= 1.15 x direct + 3 s.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--num-round", type=int, default=100)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of each side")
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


if __name__ == "__main__":
    main()
