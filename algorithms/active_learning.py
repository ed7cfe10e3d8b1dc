"""The pure parts of automated labeling (active learning): featurizing items, training a model on
the human labels with held-out predictions, calibrating a confidence threshold to a target
accuracy, and choosing the least certain items for people (the query strategies)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import hstack, issparse
from sklearn.calibration import CalibratedClassifierCV
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import MaxAbsScaler, normalize
from sklearn.svm import SVC

# What the user may choose (least certain first by each) and what "random" is: the plain loop.
QUERY_STRATEGIES = ("least-confidence", "margin", "entropy", "random")
# Least confidence by default: in the labeling benchmark it machine-labels most on both sets
# (digits 84.2 % at 96.0 %, languages 83.6 % at 97.0 %; margin 80.7 % on each).
DEFAULT_QUERY_STRATEGY = "least-confidence"
# Ground Truth's fixed target for classification: machine labels at least this accurate.
TARGET_ACCURACY = 0.95
# A threshold is trusted only when this many held-out labels lie at or above it.
MIN_SUPPORT = 20
HASH_FEATURES = 2**18
# Text: the latent dimensions fitted on every item (labeled or not) beside the TF-IDF columns,
# and their weight against them. A few dozen labels train a model on 20 dimensions far better
# than on tens of thousands of n-grams: its confidence then ranks items well from the first
# round (languages of UI sentences, 75 random labels: 84 % of the rest sure at 95 % against
# 9 % on the n-grams alone).
LATENT_DIMENSIONS = 20
LATENT_WEIGHT = 2.0


class FeaturizeError(ValueError):
    """The items cannot be featurized for this task type."""


@dataclass
class Featurizer:
    """Features of items, fitted on some of them: the numbers of a CSV row, each column scaled
    by its largest magnitude (tabular jobs, and text jobs whose every item is a row of numbers),
    else hashed TF-IDF of the text's words, word pairs and characters, beside (when more items
    than :data:`LATENT_DIMENSIONS` were fitted) their latent semantic dimensions."""

    columns: int | None = None  # rows of numbers: how many; None for text
    scaler: MaxAbsScaler | None = None
    used: np.ndarray | None = None  # text: the hashed columns the fitted items use
    tfidf: TfidfTransformer | None = None
    latent: TruncatedSVD | None = None

    def transform(self, sources: Sequence[str]):
        if self.columns is not None:
            return self.scaler.transform(_rows_of(sources, self.columns))
        tfidf = self.tfidf.transform(_hash(sources)[:, self.used]).tocsr()
        if self.latent is None:
            return tfidf
        latent = LATENT_WEIGHT * normalize(self.latent.transform(tfidf))
        return hstack([tfidf, latent]).tocsr()


def fit_featurizer(task_type: str, sources: Sequence[str]) -> Featurizer:
    """A featurizer fitted on ``sources``. Images are refused."""
    if task_type == "image-classification":
        raise FeaturizeError("Automated labeling of images is not supported yet")
    rows = _numeric_rows(sources)
    if rows is not None:
        return Featurizer(columns=rows.shape[1], scaler=MaxAbsScaler().fit(rows))
    if task_type == "tabular-classification":
        raise FeaturizeError("Every item of a tabular job must be a CSV row of numbers")
    hashed = _hash(sources)
    # Only the hashed columns some item uses: the model then fits in the vocabulary's size.
    used = np.unique(hashed.indices)
    tfidf = TfidfTransformer(sublinear_tf=True).fit(hashed[:, used])
    latent = None
    if len(sources) > LATENT_DIMENSIONS and len(used) > LATENT_DIMENSIONS:
        # Fitted on every item: which n-grams go together (a language, a topic) is learned
        # from the items people never label.
        latent = TruncatedSVD(LATENT_DIMENSIONS, random_state=0)
        latent.fit(tfidf.transform(hashed[:, used]))
    return Featurizer(used=used, tfidf=tfidf, latent=latent)


def featurize(task_type: str, sources: Sequence[str]):
    """Features of every item, fitted on them all (see :class:`Featurizer`)."""
    return fit_featurizer(task_type, sources).transform(sources)


def _hash(sources: Sequence[str]):
    """Words and word pairs, and the character 2- to 4-grams within words: these carry
    inflections, compounds, other scripts and languages that whole words miss."""
    words = HashingVectorizer(
        n_features=HASH_FEATURES, ngram_range=(1, 2), alternate_sign=False, norm=None
    ).transform(sources)
    characters = HashingVectorizer(
        n_features=HASH_FEATURES,
        analyzer="char_wb",
        ngram_range=(2, 4),
        alternate_sign=False,
        norm=None,
    ).transform(sources)
    return hstack([words, characters]).tocsr()


def _numeric_rows(sources: Sequence[str]) -> np.ndarray | None:
    rows = []
    for source in sources:
        try:
            rows.append([float(cell) for cell in source.split(",")])
        except ValueError:
            return None
    if not rows or len({len(row) for row in rows}) != 1:
        return None
    return np.asarray(rows, dtype=float)


def _rows_of(sources: Sequence[str], columns: int) -> np.ndarray:
    out = np.empty((len(sources), columns))
    for number, source in enumerate(sources, start=1):
        try:
            row = [float(cell) for cell in source.split(",")]
        except ValueError:
            row = []
        if len(row) != columns:
            raise FeaturizeError(f"Item {number} is not a CSV row of {columns} numbers")
        out[number - 1] = row
    return out


def new_model(features, labels: np.ndarray):
    """A linear model for text features (TF-IDF and latent dimensions); for rows of numbers,
    where pixels and measurements are seldom linear, an RBF support-vector machine, its
    probabilities by Platt scaling over folds (when every label has at least two items)."""
    folds = min(5, int(np.unique(labels, return_counts=True)[1].min()))
    if issparse(features) or folds < 2:
        return LogisticRegression(C=1.0, max_iter=1000)
    return CalibratedClassifierCV(SVC(C=10.0, gamma="scale"), cv=folds)


@dataclass
class Classifier:
    """A featurizer and a model fitted on labeled items: each item's probability of each of
    ``classes`` labels (0 for labels it never saw)."""

    featurizer: Featurizer
    model: object
    classes: int

    def probabilities(self, sources: Sequence[str]) -> np.ndarray:
        return probabilities(self.model, self.featurizer.transform(sources), self.classes)


def fit_classifier(
    featurizer: Featurizer, sources: Sequence[str], labels: np.ndarray, classes: int
) -> Classifier:
    """A model trained on the labeled ``sources``, featurized by ``featurizer``: fitted on every
    item of the job, labeled or not, so that a column or word the labeled items lack is still
    scaled or weighted as the whole set has it."""
    features = featurizer.transform(sources)
    return Classifier(featurizer, new_model(features, labels).fit(features, labels), classes)


def probabilities(model, features, classes: int) -> np.ndarray:
    """Each item's probability of each of ``classes`` labels (0 for labels never seen)."""
    out = np.zeros((features.shape[0], classes))
    out[:, model.classes_] = model.predict_proba(features)
    return out


def held_out_probabilities(
    featurizer: Featurizer,
    sources: Sequence[str],
    labels: np.ndarray,
    classes: int,
    folds: int = 5,
) -> np.ndarray | None:
    """Each labeled item's probabilities from a model that did not see it (k-fold), or None
    when some label has too few items to hold any out."""
    counts = np.bincount(labels, minlength=classes)
    seen = counts[counts > 0]
    folds = min(folds, int(seen.min()) if len(seen) else 0)
    if len(seen) < 2 or folds < 2:
        return None
    features = featurizer.transform(sources)
    out = np.zeros((len(labels), classes))
    for train_rows, test_rows in StratifiedKFold(folds, shuffle=True, random_state=0).split(
        np.zeros(len(labels)), labels
    ):
        model = new_model(features[train_rows], labels[train_rows])
        model.fit(features[train_rows], labels[train_rows])
        out[test_rows] = probabilities(model, features[test_rows], classes)
    return out


@dataclass(frozen=True)
class Calibration:
    threshold: float  # machine-label items whose confidence is at least this
    estimated_accuracy: float  # of held-out labels at or above it
    support: int  # how many held-out labels lie at or above it


def calibrate_threshold(
    confidences: np.ndarray,
    correct: np.ndarray,
    pool_confidences: np.ndarray | None = None,
    *,
    target: float = TARGET_ACCURACY,
    min_support: int = MIN_SUPPORT,
    z: float = 1.0,
) -> Calibration | None:
    """The lowest confidence threshold at which machine labels are estimated ``target``
    accurate, from held-out labels' ``confidences`` and whether each was ``correct``, or None.

    Two estimates must both reach the target. The held-out labels at or above the threshold
    (at least ``min_support`` of them), by the lower bound of a Wilson interval (``z`` standard
    errors): small samples must be clearly above it. And, given the confidences of the items
    that would be machine-labeled (``pool_confidences``), their mean accuracy as a monotone fit
    of correctness on confidence predicts it: the pool left after earlier rounds lies mostly just
    above the threshold, where labels are least often right."""
    order = np.argsort(-confidences, kind="stable")
    conf, hits = confidences[order], np.cumsum(correct[order])
    expected = None
    if pool_confidences is not None and len(pool_confidences):
        fit = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        fit.fit(confidences, correct.astype(float))
        pool = np.sort(pool_confidences)[::-1]
        expected = np.cumsum(fit.predict(pool)) / np.arange(1, len(pool) + 1)
    best = None
    for n in range(min_support, len(conf) + 1):
        if n < len(conf) and conf[n] == conf[n - 1]:
            continue  # a threshold takes every item of its confidence
        accuracy = hits[n - 1] / n
        if wilson_lower(accuracy, n, z) < target:
            continue
        if expected is not None:
            taken = int(np.searchsorted(-pool, -conf[n - 1], side="right"))
            if taken and expected[taken - 1] < target:
                continue
            accuracy = expected[taken - 1] if taken else accuracy
        best = Calibration(float(conf[n - 1]), float(accuracy), n)
    return best


def wilson_lower(share: float, n: int, z: float) -> float:
    if n == 0:
        return 0.0
    centre = share + z * z / (2 * n)
    spread = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n))
    return (centre - spread) / (1 + z * z / n)


def uncertainty(probs: np.ndarray, strategy: str, *, seed: int = 0) -> np.ndarray:
    """How uncertain the model is of each item, larger first to ask people about."""
    if strategy == "least-confidence":
        return 1.0 - probs.max(axis=1)
    if strategy == "margin":
        top = np.sort(probs, axis=1)[:, -2:]
        return 1.0 - (top[:, 1] - top[:, 0])
    if strategy == "entropy":
        safe = np.clip(probs, 1e-12, 1.0)
        return -(probs * np.log(safe)).sum(axis=1)
    if strategy == "random":
        return np.random.default_rng(seed).random(len(probs))
    raise ValueError(f"Unknown query strategy {strategy!r}: one of {', '.join(QUERY_STRATEGIES)}")


def least_certain(probs: np.ndarray, strategy: str, count: int, *, seed: int = 0) -> np.ndarray:
    """The positions of the ``count`` items to ask people about next."""
    scores = uncertainty(probs, strategy, seed=seed)
    return np.argsort(-scores, kind="stable")[:count]


def batch_size(total: int, max_concurrent: int | None) -> int:
    """Items sent to people per round: MaxConcurrentTaskCount when given, else 2 % of the items
    (at least 10): small batches retrain the model often on what it is least sure of."""
    if max_concurrent:
        return max_concurrent
    return max(10, math.ceil(total * 0.02))


def first_batch_size(total: int, classes: int, batch: int) -> int:
    """The random batch people label first: enough to train and calibrate on (5 % of the items,
    at least 10 per label), never less than a round's batch."""
    return min(total, max(batch, 10 * classes, math.ceil(total * 0.05)))


@dataclass(frozen=True)
class RoundPlan:
    """What one round decides, by positions in its pool: machine labels ``(position, label,
    confidence)``, the positions to ask people about next, and the threshold with its estimated
    accuracy (None: none reached)."""

    machine: list[tuple[int, int, float]]
    ask: list[int]
    threshold: float | None
    estimated_accuracy: float | None


def random_batch(pool_size: int, batch: int, *, seed: int = 0) -> RoundPlan:
    """A round with nothing to learn from yet (fewer than two labels seen): ask at random."""
    ask = np.random.default_rng(seed).permutation(pool_size)[:batch]
    return RoundPlan([], [int(position) for position in ask], None, None)


def plan_round(
    pool_probabilities: np.ndarray,
    held_out: np.ndarray | None,
    held_out_labels: np.ndarray,
    *,
    strategy: str,
    batch: int,
    fixed_threshold: float | None = None,
    seed: int = 0,
) -> RoundPlan:
    """One round's decisions from a classifier's probabilities for the pool and held-out
    probabilities of the human-labeled items (with their labels): calibrate a threshold on the
    held-out ones (or take ``fixed_threshold``: the plain loop), machine-label the pool items at
    or above it, and pick ``batch`` of the rest, least certain first by ``strategy``."""
    confidence = pool_probabilities.max(axis=1)
    predicted = pool_probabilities.argmax(axis=1)
    threshold = accuracy = None
    if held_out is not None:
        confidences, correct = held_out.max(axis=1), held_out.argmax(axis=1) == held_out_labels
        if fixed_threshold is None:
            calibration = calibrate_threshold(confidences, correct, confidence)
            if calibration is not None:
                threshold, accuracy = calibration.threshold, calibration.estimated_accuracy
        else:
            threshold = fixed_threshold
            above = confidences >= threshold
            accuracy = float(correct[above].mean()) if above.any() else None
    elif fixed_threshold is not None:
        threshold = fixed_threshold
    sure = (
        confidence >= threshold if threshold is not None else np.zeros(len(confidence), dtype=bool)
    )
    machine = [
        (int(position), int(predicted[position]), float(confidence[position]))
        for position in np.flatnonzero(sure)
    ]
    rest = np.flatnonzero(~sure)
    ask = rest[least_certain(pool_probabilities[rest], strategy, batch, seed=seed)]
    return RoundPlan(machine, [int(position) for position in ask], threshold, accuracy)
