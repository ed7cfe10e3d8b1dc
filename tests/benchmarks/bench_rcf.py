"""The ``randomcutforest`` built-in beside scikit-learn's IsolationForest, on the same data.

Run on demand (the suite does not), under the shared lock:
``flock /tmp/sagebrush-heavy.lock .venv/bin/python -m tests.benchmarks.bench_rcf [--rounds 3]``.

Two data sets, each trained on whole (anomalies included, unsupervised, as SageMaker's NYC-taxi
notebook does) and scored on the same rows:
- a series shaped like the taxi data (a daily cycle of 48 half-hours, a weekly one, noise) with
  injected spikes, dips, level shifts and a flattened stretch, shingled by 48 as the notebook
  does; a shingle is anomalous when it holds an anomalous step;
- a table of 5 informative dimensions (three clusters) and 45 irrelevant noise dimensions, 1%
  of rows displaced in the informative ones only.
Both at SageMaker's defaults (100 trees of 256 samples; IsolationForest the same). Printed: ROC
AUC and average precision for each, training seconds, and RCF points scored per CPU-second
(one core) through the model's ``predict``, best and median of ``--rounds`` passes over the rows
(CPU time, which other work on a shared machine still inflates: read it with the load average
printed at the end), and the normal rows' mean score.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score

from algorithms import Channel, load_model, parse_hyperparameters, resolve_image
from tests.fakes import QuietReporter

SHINGLE = 48


def taxi_like_series(rng: np.random.Generator, days: int = 210) -> tuple[np.ndarray, np.ndarray]:
    """Values and a 0/1 anomaly flag per step."""
    steps = np.arange(days * SHINGLE)
    daily = np.sin(2 * np.pi * steps / SHINGLE - 1.5) + 0.4 * np.sin(4 * np.pi * steps / SHINGLE)
    weekly = 0.3 * np.sin(2 * np.pi * steps / (7 * SHINGLE))
    values = 15_000 + 6_000 * (daily + weekly) + rng.normal(scale=600, size=steps.size)
    flags = np.zeros(steps.size)
    starts = rng.choice(np.arange(SHINGLE, steps.size - SHINGLE, 2 * SHINGLE), 24, replace=False)
    for number, start in enumerate(sorted(starts)):
        kind = number % 4
        if kind == 0:  # a spike
            span = slice(start, start + 3)
            values[span] += rng.choice([-1, 1]) * rng.uniform(6_000, 10_000)
        elif kind == 1:  # a dip that lasts a few hours
            span = slice(start, start + 8)
            values[span] -= rng.uniform(4_000, 7_000)
        elif kind == 2:  # a level shift for most of a day
            span = slice(start, start + 30)
            values[span] += rng.uniform(3_000, 5_000)
        else:  # the cycle stops: a flat stretch at the day's mean
            span = slice(start, start + 20)
            values[span] = 15_000 + rng.normal(scale=300, size=20)
        flags[span] = 1
    return values, flags


def shingle(values: np.ndarray, flags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    windows = np.lib.stride_tricks.sliding_window_view(values, SHINGLE)
    labels = np.lib.stride_tricks.sliding_window_view(flags, SHINGLE).max(axis=1)
    return windows.copy(), labels


def table_with_irrelevant_dimensions(
    rng: np.random.Generator, rows: int = 10_000
) -> tuple[np.ndarray, np.ndarray]:
    centres = np.array([[0, 0, 0, 0, 0], [4, 4, 0, 0, 0], [0, 4, 4, 4, 0]], dtype=float)
    informative = centres[rng.integers(0, 3, rows)] + rng.normal(size=(rows, 5))
    labels = np.zeros(rows)
    anomalous = rng.choice(rows, rows // 100, replace=False)
    labels[anomalous] = 1
    # Displaced along one informative dimension, in between or beside the clusters.
    informative[anomalous, rng.integers(0, 5, anomalous.size)] += rng.choice(
        [-6, 6], anomalous.size
    )
    irrelevant = rng.normal(size=(rows, 45))
    return np.hstack([informative, irrelevant]), labels


def run_rcf(features: np.ndarray, work: Path, rounds: int) -> tuple[np.ndarray, float, list[float]]:
    """Scores, training seconds and each round's points scored per CPU-second, through the
    built-in."""
    (work / "train").mkdir(parents=True)
    np.savetxt(work / "train" / "data.csv", features, delimiter=",", fmt="%.7g")
    algorithm = resolve_image("randomcutforest")
    hyperparameters = parse_hyperparameters(algorithm, {"feature_dim": str(features.shape[1])})
    started = time.perf_counter()
    algorithm().train(
        channels={"train": Channel("train", work / "train", "text/csv")},
        hyperparameters=hyperparameters,
        model_dir=work / "model",
        reporter=QuietReporter(),
    )
    trained = time.perf_counter() - started
    model = load_model(work / "model")
    rates = []
    for _ in range(rounds):
        cpu = time.process_time()
        scores = model.predict(features).outputs["score"]
        rates.append(len(features) / (time.process_time() - cpu))
    return scores, trained, rates


def run_isolation_forest(features: np.ndarray) -> tuple[np.ndarray, float]:
    started = time.perf_counter()
    forest = IsolationForest(n_estimators=100, max_samples=256, random_state=0).fit(features)
    trained = time.perf_counter() - started
    return -forest.score_samples(features), trained


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    series, flags = taxi_like_series(rng)
    datasets = {
        f"shingled series ({SHINGLE})": shingle(series, flags),
        "table, 45 of 50 dims irrelevant": table_with_irrelevant_dimensions(rng),
    }
    with tempfile.TemporaryDirectory(prefix="bench-rcf-") as tmp:
        for number, (name, (features, labels)) in enumerate(datasets.items()):
            rcf, rcf_trained, rates = run_rcf(features, Path(tmp) / str(number), args.rounds)
            isolation, if_trained = run_isolation_forest(features)
            print(
                f"{name}: {len(features)} rows x {features.shape[1]}, {labels.mean():.1%} anomalous"
            )
            for method, scores, trained in (
                ("RCF", rcf, rcf_trained),
                ("IsolationForest", isolation, if_trained),
            ):
                print(
                    f"  {method:16} ROC AUC {roc_auc_score(labels, scores):.3f}  "
                    f"average precision {average_precision_score(labels, scores):.3f}  "
                    f"trained in {trained:.1f} s"
                )
            normal = rcf[labels == 0]
            print(
                f"  RCF scored {max(rates):,.0f} points per CPU-second best, "
                f"{statistics.median(rates):,.0f} median of {len(rates)} (100 trees); normal "
                f"rows' mean score {normal.mean():.3f} (sd {normal.std():.3f}), anomalies' "
                f"{rcf[labels == 1].mean():.3f}"
            )
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"load average at the end: {load} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
