"""Benchmark of the Bayesian tuner against Optuna's Random, TPE and GP samplers; run on demand.

    .venv/bin/python -m tests.benchmarks.bench_tuning            # 50 evaluations x 10 seeds
    .venv/bin/python -m tests.benchmarks.bench_tuning --quick    # 30 evaluations x 3 seeds

Prints the median log10 simple regret at 20 and 50 evaluations per problem and method, win
counts, and the tuner's suggestion time at 50 and 100 observations (one thread). Regret is floored
at 1e-8. LightGBM's optimum is unknown: its reference is the best value any method found.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

REGRET_FLOOR = 1e-8
METHODS = ("Sagebrush", "Random", "TPE", "GP")


@dataclass(frozen=True)
class Problem:
    name: str
    ranges: dict
    function: Callable[[dict[str, str]], float]
    optimum: float | None  # None: the best value found by any run


def _floats(hp: dict[str, str], names: list[str]) -> np.ndarray:
    return np.array([float(hp[n]) for n in names])


def _box(names: list[str], low: float, high: float) -> dict:
    return {
        "ContinuousParameterRanges": [
            {"Name": n, "MinValue": str(low), "MaxValue": str(high), "ScalingType": "Linear"}
            for n in names
        ]
    }


def branin(hp: dict[str, str]) -> float:
    x1, x2 = _floats(hp, ["x1", "x2"])
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


_HARTMANN = {
    3: (
        np.array([[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]]),
        1e-4
        * np.array([[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547], [381, 5743, 8828]]),
    ),
    6: (
        np.array(
            [
                [10, 3, 17, 3.5, 1.7, 8],
                [0.05, 10, 17, 0.1, 8, 14],
                [3, 3.5, 1.7, 10, 17, 8],
                [17, 8, 0.05, 10, 0.1, 14],
            ]
        ),
        1e-4
        * np.array(
            [
                [1312, 1696, 5569, 124, 8283, 5886],
                [2329, 4135, 8307, 3736, 1004, 9991],
                [2348, 1451, 3522, 2883, 3047, 6650],
                [4047, 8828, 8732, 5743, 1091, 381],
            ]
        ),
    ),
}


def hartmann(d: int) -> Callable[[dict[str, str]], float]:
    a, p = _HARTMANN[d]
    alpha = np.array([1.0, 1.2, 3.0, 3.2])
    names = [f"x{i}" for i in range(d)]

    def function(hp: dict[str, str]) -> float:
        x = _floats(hp, names)
        return float(-(alpha * np.exp(-(a * (x - p) ** 2).sum(axis=1))).sum())

    return function


def levy(hp: dict[str, str]) -> float:
    w = 1 + (_floats(hp, [f"x{i}" for i in range(4)]) - 1) / 4
    body = ((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(np.pi * w[:-1] + 1) ** 2)).sum()
    tail = (w[-1] - 1) ** 2 * (1 + np.sin(2 * np.pi * w[-1]) ** 2)
    return float(np.sin(np.pi * w[0]) ** 2 + body + tail)


def rosenbrock(hp: dict[str, str]) -> float:
    x = _floats(hp, [f"x{i}" for i in range(4)])
    return float((100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum())


LIGHTGBM_RANGES = {
    "ContinuousParameterRanges": [
        {
            "Name": "learning_rate",
            "MinValue": "0.001",
            "MaxValue": "0.5",
            "ScalingType": "Logarithmic",
        },
        {"Name": "feature_fraction", "MinValue": "0.3", "MaxValue": "1.0", "ScalingType": "Linear"},
    ],
    "IntegerParameterRanges": [
        {"Name": "num_leaves", "MinValue": "4", "MaxValue": "128", "ScalingType": "Logarithmic"},
        {"Name": "min_child_samples", "MinValue": "2", "MaxValue": "100", "ScalingType": "Auto"},
    ],
    "CategoricalParameterRanges": [{"Name": "extra_trees", "Values": ["false", "true"]}],
}


def lightgbm_log_loss(hp: dict[str, str]) -> float:
    import lightgbm
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import cross_val_score

    x, y = load_breast_cancer(return_X_y=True)
    model = lightgbm.LGBMClassifier(
        n_estimators=100,
        learning_rate=float(hp["learning_rate"]),
        colsample_bytree=float(hp["feature_fraction"]),
        num_leaves=int(hp["num_leaves"]),
        min_child_samples=int(hp["min_child_samples"]),
        extra_trees=hp["extra_trees"] == "true",
        n_jobs=1,
        verbose=-1,
        random_state=0,
    )
    return -float(cross_val_score(model, x, y, cv=3, scoring="neg_log_loss").mean())


def problems() -> list[Problem]:
    return [
        Problem(
            "Branin",
            {
                "ContinuousParameterRanges": [
                    {"Name": "x1", "MinValue": "-5", "MaxValue": "10", "ScalingType": "Linear"},
                    {"Name": "x2", "MinValue": "0", "MaxValue": "15", "ScalingType": "Linear"},
                ]
            },
            branin,
            0.397887357729739,
        ),
        Problem(
            "Hartmann3", _box([f"x{i}" for i in range(3)], 0, 1), hartmann(3), -3.86278214782076
        ),
        Problem(
            "Hartmann6", _box([f"x{i}" for i in range(6)], 0, 1), hartmann(6), -3.32236801141551
        ),
        Problem("Levy-4", _box([f"x{i}" for i in range(4)], -10, 10), levy, 0.0),
        Problem("Rosenbrock-4", _box([f"x{i}" for i in range(4)], -5, 10), rosenbrock, 0.0),
        Problem("LightGBM", LIGHTGBM_RANGES, lightgbm_log_loss, None),
    ]


def run_sagebrush(problem: Problem, seed: int, budget: int) -> list[float]:
    import torch

    from algorithms.tuning import Tuner

    torch.set_num_threads(1)
    tuner = Tuner(problem.ranges, objective_type="Minimize", seed=seed)
    values = []
    for _ in range(budget):
        [hp] = tuner.suggest(1)
        values.append(problem.function(hp))
        tuner.observe(hp, values[-1])
    return values


def run_optuna(problem: Problem, method: str, seed: int, budget: int) -> list[float]:
    import optuna
    import torch

    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.simplefilter("ignore")
    sampler = {
        "Random": optuna.samplers.RandomSampler,
        "TPE": optuna.samplers.TPESampler,
        "GP": optuna.samplers.GPSampler,
    }[method](seed=seed)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    values = []
    for _ in range(budget):
        trial = study.ask()
        hp = {}
        for r in problem.ranges.get("ContinuousParameterRanges", []):
            log = r["ScalingType"] == "Logarithmic"
            low, high = float(r["MinValue"]), float(r["MaxValue"])
            hp[r["Name"]] = repr(trial.suggest_float(r["Name"], low, high, log=log))
        for r in problem.ranges.get("IntegerParameterRanges", []):
            low, high = int(r["MinValue"]), int(r["MaxValue"])
            log = r["ScalingType"] == "Logarithmic" or (
                r["ScalingType"] == "Auto" and high >= 100 * low
            )
            hp[r["Name"]] = str(trial.suggest_int(r["Name"], low, high, log=log))
        for r in problem.ranges.get("CategoricalParameterRanges", []):
            hp[r["Name"]] = trial.suggest_categorical(r["Name"], r["Values"])
        values.append(problem.function(hp))
        study.tell(trial, values[-1])
    return values


def run_one(task: tuple[str, str, int, int]) -> tuple[str, str, int, list[float]]:
    problem_name, method, seed, budget = task
    problem = next(p for p in problems() if p.name == problem_name)
    if method == "Sagebrush":
        values = run_sagebrush(problem, seed, budget)
    else:
        values = run_optuna(problem, method, seed, budget)
    return problem_name, method, seed, values


def suggestion_times(seeds: int) -> dict[int, list[float]]:
    """Wall time of ``suggest(1)`` on Hartmann6 with 50..54 and 100..104 observations."""
    import torch

    from algorithms.tuning import Tuner

    torch.set_num_threads(1)
    problem = next(p for p in problems() if p.name == "Hartmann6")
    times: dict[int, list[float]] = {50: [], 100: []}
    for seed in range(seeds):
        tuner = Tuner(problem.ranges, objective_type="Minimize", seed=1000 + seed)
        for n in range(105):
            start = time.perf_counter()
            [hp] = tuner.suggest(1)
            elapsed = time.perf_counter() - start
            for mark in times:
                if mark <= n < mark + 5:
                    times[mark].append(elapsed)
            tuner.observe(hp, problem.function(hp))
    return times


def log_regret(values: list[float], optimum: float, at: int) -> float:
    return math.log10(max(min(values[:at]) - optimum, REGRET_FLOOR))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30 evaluations x 3 seeds")
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--budget", type=int, default=None)
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--problems", default=None, help="comma-separated subset")
    args = parser.parse_args()
    seeds = args.seeds or (3 if args.quick else 10)
    budget = args.budget or (30 if args.quick else 50)
    marks = [m for m in (20, 50) if m <= budget] or [budget]
    chosen = [p for p in problems() if not args.problems or p.name in args.problems.split(",")]

    tasks = [(p.name, m, s, budget) for p in chosen for m in METHODS for s in range(seeds)]
    started = time.time()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(run_one, tasks))
    runs: dict[tuple[str, str], list[list[float]]] = {}
    for problem_name, method, _, values in results:
        runs.setdefault((problem_name, method), []).append(values)

    print(
        f"{len(chosen)} problems x {len(METHODS)} methods x {seeds} seeds x {budget} evaluations "
        f"in {time.time() - started:.0f} s; median log10 simple regret, floor 1e-8, lower is better"
    )
    header = f"{'problem':<13}" + "".join(f"{m + f'@{k}':>14}" for m in METHODS for k in marks)
    print(header)
    medians: dict[tuple[str, str], float] = {}
    for p in chosen:
        optimum = p.optimum
        if optimum is None:
            optimum = min(min(v) for m in METHODS for v in runs[(p.name, m)])
            print(
                f"# {p.name}: reference optimum = best CV log-loss found by any run = {optimum:.6f}"
            )
        row = f"{p.name:<13}"
        for m in METHODS:
            for k in marks:
                median = statistics.median(log_regret(v, optimum, k) for v in runs[(p.name, m)])
                medians[(p.name, m, k)] = median
                row += f"{median:>14.2f}"
        print(row)

    final = marks[-1]
    print(f"\nWins of Sagebrush at {final} evaluations (lower median regret):")
    for m in METHODS[1:]:
        wins = [
            p.name
            for p in chosen
            if medians[(p.name, "Sagebrush", final)] < medians[(p.name, m, final)]
        ]
        within = [
            p.name
            for p in chosen
            if medians[(p.name, "Sagebrush", final)] <= medians[(p.name, m, final)] + 0.5
        ]
        print(
            f"  vs {m:<7} beats on {len(wins)}/{len(chosen)} {wins}; "
            f"within 0.5 decades on {len(within)}/{len(chosen)}"
        )

    times = suggestion_times(2 if args.quick else 3)
    print("\nSagebrush suggest(1) wall time on Hartmann6, one thread:")
    for mark, samples in times.items():
        samples = sorted(samples)
        p95 = samples[min(len(samples) - 1, math.ceil(0.95 * len(samples)) - 1)]
        print(
            f"  {mark}-{mark + 4} observations: median {statistics.median(samples):.3f} s, "
            f"p95 {p95:.3f} s ({len(samples)} samples)"
        )
    print(
        "Goals: beat TPE on >= 5/6; within 0.5 decades of GP on >= 5/6 and beat it on "
        "Rosenbrock-4; median <= 0.5 s and p95 <= 2 s at 100 observations."
    )


if __name__ == "__main__":
    main()
