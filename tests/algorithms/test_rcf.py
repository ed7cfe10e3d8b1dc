"""algorithms.rcf: scoring reads the forest and never changes it, as SageMaker's inference."""

from __future__ import annotations

import numpy as np

from algorithms.rcf import forest_fit, forest_scores


def test_scores_do_not_depend_on_what_was_scored_before_or_beside() -> None:
    rng = np.random.default_rng(5)
    forest, _ = forest_fit(rng.normal(size=(500, 5)), num_trees=50, num_samples_per_tree=64)
    saved = forest.to_msgpack()
    probe = np.vstack([rng.normal(size=(30, 5)), [[8.0, -8.0, 8.0, -8.0, 8.0]]])
    together = forest_scores(forest, probe)
    one_by_one = [forest_scores(forest, row[None, :])[0] for row in probe[::-1]][::-1]
    assert together.tolist() == one_by_one
    assert together.tolist() == [forest.score(row) for row in probe.astype(np.float32).tolist()]
    assert forest.to_msgpack() == saved
    assert together[-1] > 3 * together[:-1].mean()
