"""Imports every built-in algorithm module so that each registers itself by image name.

Adding an algorithm: one module here calling ``@register("<image name>")``, one line below.
"""

from algorithms import script  # noqa: F401  (script mode: framework images)
from algorithms.builtin import (  # noqa: F401
    factorization_machines,
    kmeans,
    knn,
    lightgbm,
    linear_learner,
    mlp,
    pca,
    random_cut_forest,
    xgboost,
)
