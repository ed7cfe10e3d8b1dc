"""Shared pieces of the transcribed notebooks: synthetic data of the shape each notebook downloads,
and what a user outside SageMaker writes in place of ``get_execution_role()``.

The data sets are small and seeded, so a flow takes seconds; each keeps its notebook's columns,
value kinds and label rule, so the notebook's own code (its preprocessing, its feature counts)
runs on it unchanged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Outside SageMaker ``sagemaker.get_execution_role()`` has no notebook instance to ask (the caller
# is a user, not a role), so a notebook's first cell names the role instead, as the SDK's
# documentation tells users of their own machines to. The platform takes any role ARN.
ROLE = "arn:aws:iam::000000000000:role/SageMakerRole"

ABALONE_SEXES = ("M", "F", "I")


def abalone_frame(rows: int, *, seed: int = 0, noise: float = 1.5) -> pd.DataFrame:
    """UCI abalone's columns (sex, seven measurements, rings), rings growing with the shell's
    weight plus Gaussian noise of ``noise`` rings: the mean squared error a good model reaches
    is about ``noise ** 2``."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(ABALONE_SEXES, size=rows)
    length = rng.uniform(0.1, 0.8, size=rows)
    diameter = length * rng.uniform(0.75, 0.85, size=rows)
    height = length * rng.uniform(0.2, 0.35, size=rows)
    whole = length**3 * rng.uniform(1.5, 2.5, size=rows)
    shucked, viscera, shell = whole * 0.43, whole * 0.22, whole * 0.29
    rings = 3 + 28 * shell + (sex != "I") * 2 + rng.normal(0, noise, size=rows)
    return pd.DataFrame(
        {
            "sex": sex,
            "length": length.round(3),
            "diameter": diameter.round(3),
            "height": height.round(3),
            "whole_weight": whole.round(4),
            "shucked_weight": shucked.round(4),
            "viscera_weight": viscera.round(4),
            "shell_weight": shell.round(4),
            "rings": np.clip(np.rint(rings), 1, 29).astype(int),
        }
    )


def abalone_csv(rows: int, *, seed: int = 0, noise: float = 1.5) -> str:
    """``abalone.csv`` as the sample-files bucket holds it: no header, sex first, rings last."""
    return abalone_frame(rows, seed=seed, noise=noise).to_csv(header=False, index=False)


def abalone_batch_csv(rows: int, *, seed: int = 1) -> str:
    """``abalone-dataset-batch``: the preprocessed features only (the eleven columns the
    pipeline's preprocessing makes: seven scaled measurements, three one-hot sexes), no label."""
    rng = np.random.default_rng(seed)
    measurements = rng.normal(0, 1, size=(rows, 7))
    sexes = np.eye(3)[rng.integers(0, 3, size=rows)]
    return pd.DataFrame(np.hstack([measurements, sexes])).to_csv(header=False, index=False)


def abalone_libsvm(rows: int, *, seed: int = 0, noise: float = 1.5) -> list[str]:
    """``abalone.libsvm``'s lines: ``rings 1:sex 2:length ... 8:shell_weight``, sex coded 1/2/3
    (M/F/I)."""
    frame = abalone_frame(rows, seed=seed, noise=noise)
    codes = {sex: index + 1 for index, sex in enumerate(ABALONE_SEXES)}
    lines = []
    for row in frame.itertuples(index=False):
        values = [codes[row.sex], *row[1:8]]
        features = " ".join(f"{index}:{value:g}" for index, value in enumerate(values, start=1))
        lines.append(f"{row.rings} {features}")
    return lines


BANK_CATEGORIES = {
    "job": ("admin.", "blue-collar", "technician", "services", "management", "retired",
            "student", "unemployed", "unknown"),
    "marital": ("married", "single", "divorced", "unknown"),
    "education": ("basic.4y", "high.school", "professional.course", "university.degree",
                  "unknown"),
    "default": ("no", "unknown", "yes"),
    "housing": ("no", "yes", "unknown"),
    "loan": ("no", "yes", "unknown"),
    "contact": ("cellular", "telephone"),
    "month": ("mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
    "day_of_week": ("mon", "tue", "wed", "thu", "fri"),
    "poutcome": ("nonexistent", "failure", "success"),
}  # fmt: skip


def bank_marketing_frame(rows: int, *, seed: int = 0) -> pd.DataFrame:
    """``bank-additional-full.csv``'s 21 columns in its order (20 features, ``y`` yes/no, about
    one yes in eight), ``y`` depending on the previous campaign's outcome, the contact, age and
    the economic indicators, as in the real set."""
    rng = np.random.default_rng(seed)
    pick = {name: rng.choice(values, size=rows) for name, values in BANK_CATEGORIES.items()}
    age = rng.integers(18, 90, size=rows)
    previous = rng.poisson(0.2, size=rows)
    pdays = np.where(previous > 0, rng.integers(0, 27, size=rows), 999)
    euribor = rng.uniform(0.6, 5.0, size=rows).round(3)
    score = (
        -2.6
        + 2.2 * (pick["poutcome"] == "success")
        + 0.8 * (pick["contact"] == "cellular")
        + 0.9 * ((age < 25) | (age > 60))
        - 0.5 * euribor
        + 0.7 * (pdays < 999)
    )
    yes = rng.uniform(size=rows) < 1 / (1 + np.exp(-score))
    return pd.DataFrame(
        {
            "age": age,
            "job": pick["job"],
            "marital": pick["marital"],
            "education": pick["education"],
            "default": pick["default"],
            "housing": pick["housing"],
            "loan": pick["loan"],
            "contact": pick["contact"],
            "month": pick["month"],
            "day_of_week": pick["day_of_week"],
            "duration": rng.integers(0, 1500, size=rows),
            "campaign": rng.integers(1, 10, size=rows),
            "pdays": pdays,
            "previous": previous,
            "poutcome": pick["poutcome"],
            "emp.var.rate": rng.choice([-1.8, -0.1, 1.1, 1.4], size=rows),
            "cons.price.idx": rng.uniform(92.2, 94.8, size=rows).round(3),
            "cons.conf.idx": rng.uniform(-50.8, -26.9, size=rows).round(1),
            "euribor3m": euribor,
            "nr.employed": rng.choice([4963.6, 5099.1, 5191.0, 5228.1], size=rows),
            "y": np.where(yes, "yes", "no"),
        }
    )
