"""scikit-learn objects an algorithm fitted, stored in its model directory with joblib.

The manifest records the scikit-learn and joblib versions, since a pickle loads reliably only
under the versions that wrote it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib

FITTED_FILE = "model.joblib"
LIBRARIES = ("scikit-learn", "joblib")


def save_fitted(model_dir: Path, fitted: Any) -> None:
    model_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(fitted, model_dir / FITTED_FILE)


def load_fitted(model_dir: Path) -> Any:
    return joblib.load(model_dir / FITTED_FILE)
