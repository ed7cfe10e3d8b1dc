"""A Random Cut Forest as SageMaker's RCF builds and scores one, on AWS's own implementation.

The forest is ``krcf`` (Python bindings to the Rust port of aws/random-cut-forest-by-aws): each
tree cuts a dimension chosen in proportion to its bounding box's side, and a point's score is
the forest's mean of each tree's expected change in complexity when the point is added, scaled
by log2 of the tree's sample size, so normal points score about 1 and anomalies several units.

Trained as SageMaker trains: each of ``num_trees`` trees holds a uniform reservoir sample of
``num_samples_per_tree`` training rows (no time decay, every point accepted while a tree fills).
"""

from __future__ import annotations

from pathlib import Path

import krcf
import numpy as np

from algorithms.manifest import ModelDirectoryError

FOREST_FILE = "rcf-forest.msgpack"
SEED = 0

# Every row fed costs each tree a draw (about a microsecond), so at most this many row-tree
# draws are spent: ten times what SageMaker's defaults need (100 trees x 25,600 rows).
DRAW_BUDGET = 25_600_000


def forest_fit(
    features: np.ndarray, *, num_trees: int, num_samples_per_tree: int, seed: int = SEED
) -> tuple[krcf.RandomCutForest, int]:
    """A forest whose trees each hold a uniform sample of ``num_samples_per_tree`` rows, and the
    number of rows streamed through it.

    As SageMaker's RCF does, at most ``num_trees * num_samples_per_tree`` rows (a uniform sample
    of the data) are streamed through the trees' reservoirs, so that trees share few points;
    very large forests stream fewer (``DRAW_BUDGET``), never fewer than ten samples' worth.
    """
    rows, dimensions = features.shape
    streamed = min(
        rows,
        num_trees * num_samples_per_tree,
        max(10 * num_samples_per_tree, DRAW_BUDGET // num_trees),
    )
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(rows, streamed, replace=False)) if streamed < rows else slice(None)
    forest = krcf.RandomCutForest(
        {
            "dimensions": dimensions,
            "shingle_size": 1,  # a shingled series arrives already shingled, one row a shingle
            "internal_shingling": False,
            "num_trees": num_trees,
            "sample_size": num_samples_per_tree,
            # lambda 0: no time decay, so each tree's sampler is a plain uniform reservoir, and
            # while a tree fills it accepts every point (AWS's default thins the first ones).
            "lambda": 0.0,
            "initial_accept_fraction": 1.0,
            "output_after": 1,
            "random_seed": seed,
            "parallel_execution_enabled": False,
        }
    )
    for row in np.asarray(features[chosen], dtype=np.float32).tolist():
        forest.update(row)
    return forest, streamed


def forest_scores(forest: krcf.RandomCutForest, features: np.ndarray) -> np.ndarray:
    """Each row's anomaly score (the forest is not changed by scoring, as SageMaker's inference
    does not change it).

    krcf has no batch call: one ``score`` per row, each about 200 µs at 100 trees and 50
    dimensions, nearly all of it in the trees' bounding-box work, the Python loop around it
    about 1%. The call holds the GIL, so threads would not spread a request over cores.
    """
    score = forest.score
    rows = np.asarray(features, dtype=np.float32).tolist()  # lists convert fastest into Rust
    return np.fromiter((score(row) for row in rows), dtype=np.float64, count=len(rows))


def forest_save(model_dir: Path, forest: krcf.RandomCutForest) -> None:
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / FOREST_FILE).write_bytes(forest.to_msgpack())


def forest_load(model_dir: Path) -> krcf.RandomCutForest:
    path = Path(model_dir) / FOREST_FILE
    if not path.exists():
        # Models trained before this forest (an IsolationForest in model.joblib) load no more.
        raise ModelDirectoryError(
            f"{model_dir} has no {FOREST_FILE}: train the randomcutforest model again"
        )
    return krcf.RandomCutForest.from_msgpack(path.read_bytes())


def three_sigma_threshold(scores: np.ndarray) -> float:
    """SageMaker's three-sigma limit: a score above the mean score plus three standard
    deviations counts as anomalous."""
    return float(np.mean(scores) + 3 * np.std(scores))
