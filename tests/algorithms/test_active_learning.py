"""The pure parts of automated labeling: features, held-out predictions, the calibrated
threshold, the query strategies and one round's plan."""

from __future__ import annotations

import numpy as np
import pytest

from algorithms import active_learning as al


def test_text_is_featurized_as_tfidf_over_the_words_and_characters_used():
    features = al.featurize("text-classification", ["good film", "bad film", "good good plot"])
    assert features.shape[0] == 3
    # only the hashed columns some item uses: 8 words and word pairs, 44 character n-grams
    assert features.shape[1] == 52
    assert np.allclose(np.asarray(features.multiply(features).sum(axis=1)).ravel(), 1.0)


# A few words of five languages; the test's sentences are drawn from them.
WORDS = {
    "en": "the weather is nice today where train station would like cup of coffee my brother "
    "lives in city please close door behind you we are going to beach tomorrow this book",
    "de": "das wetter ist heute schön wo der bahnhof ich hätte gern eine tasse kaffee mein "
    "bruder wohnt in stadt bitte schließen sie die tür hinter sich wir fahren morgen strand",
    "fr": "il fait beau aujourd'hui où est la gare je voudrais une tasse de café mon frère "
    "habite en ville fermez porte derrière vous nous allons à plage demain ce livre",
    "es": "hoy hace buen tiempo dónde está la estación de tren quisiera una taza café mi "
    "hermano vive en ciudad por favor cierra puerta detrás ti mañana vamos playa este libro",
    "it": "oggi il tempo è bello dov'è stazione dei treni vorrei una tazza di caffè mio "
    "fratello abita in città per favore chiudi porta dietro te domani andiamo al mare libro",
}


def test_sentences_in_five_languages_are_told_apart_from_two_labels_each():
    rng = np.random.default_rng(0)
    sources = [
        " ".join(rng.choice(words.split(), 5)) for words in WORDS.values() for _ in range(40)
    ]
    truth = np.repeat(np.arange(5), 40)
    labeled = np.concatenate([np.flatnonzero(truth == label)[:2] for label in range(5)])
    rest = np.setdiff1d(np.arange(len(sources)), labeled)
    # fitted on every item: the words that go together (a language) are learned unlabeled
    featurizer = al.fit_featurizer("text-classification", sources)
    classifier = al.fit_classifier(featurizer, [sources[i] for i in labeled], truth[labeled], 5)
    probs = classifier.probabilities([sources[i] for i in rest])
    right = probs.argmax(axis=1) == truth[rest]
    assert right.mean() >= 0.85
    # its confidence ranks them: the surer half is all right (machine labels come from there)
    surer = np.argsort(-probs.max(axis=1))[: len(rest) // 2]
    assert right[surer].all()


def test_rows_of_numbers_are_featurized_as_the_row_scaled():
    features = al.featurize("tabular-classification", ["1,2", "3,2", "5,2"])
    assert features.shape == (3, 2)
    assert np.allclose(features, [[0.2, 1], [0.6, 1], [1, 1]])
    # a text job whose every item is a row of numbers reads the same way
    assert np.allclose(al.featurize("text-classification", ["1,2", "3,2", "5,2"]), features)


def test_images_and_tabular_rows_that_are_not_numbers_are_refused():
    with pytest.raises(al.FeaturizeError, match="images"):
        al.featurize("image-classification", ["s3://b/a.jpg"])
    with pytest.raises(al.FeaturizeError, match="CSV row"):
        al.featurize("tabular-classification", ["1,x"])


def test_the_threshold_is_the_lowest_that_keeps_the_target_accuracy():
    # 100 held-out labels: the 60 most confident all right, then alternating right and wrong.
    confidences = np.linspace(1.0, 0.5, 100)
    correct = np.array([True] * 60 + [True, False] * 20)
    calibration = al.calibrate_threshold(confidences, correct, target=0.95, z=0.0)
    assert calibration is not None
    above = confidences >= calibration.threshold
    assert correct[above].mean() >= 0.95
    assert calibration.estimated_accuracy == pytest.approx(correct[above].mean())
    # one step lower falls below the target
    lower = confidences >= confidences[calibration.support]
    assert correct[lower].mean() < 0.95


def test_small_samples_must_be_clearly_above_the_target():
    confidences, correct = np.linspace(1.0, 0.9, 25), np.ones(25, dtype=bool)
    assert al.calibrate_threshold(confidences, correct, min_support=30) is None
    correct[0] = False  # 24 of 25: 96 %, but not clearly so
    assert al.calibrate_threshold(confidences, correct, z=1.0) is None


@pytest.mark.parametrize(
    ("strategy", "first"),
    [("least-confidence", 1), ("margin", 2), ("entropy", 1)],
)
def test_query_strategies_rank_the_least_certain_first(strategy, first):
    probs = np.array(
        [
            [0.98, 0.01, 0.01],  # sure
            [0.40, 0.30, 0.30],  # least confident, most spread
            [0.49, 0.48, 0.03],  # smallest margin between the top two
        ]
    )
    assert al.least_certain(probs, strategy, 1)[0] == first


def test_an_unknown_strategy_is_refused():
    with pytest.raises(ValueError, match="least-confidence"):
        al.uncertainty(np.ones((1, 2)) / 2, "loudest")


def test_the_batch_is_max_concurrent_tasks_else_two_percent():
    assert al.batch_size(10_000, 250) == 250
    assert al.batch_size(10_000, None) == 200
    assert al.batch_size(40, None) == 10


def test_the_first_batch_is_enough_to_train_and_calibrate_on():
    assert al.first_batch_size(10_000, 4, 200) == 500  # 5 %
    assert al.first_batch_size(1_000, 10, 20) == 100  # 10 per label
    assert al.first_batch_size(1_000, 2, 80) == 80  # never less than a round's batch
    assert al.first_batch_size(30, 10, 10) == 30


def test_a_pool_just_above_the_threshold_raises_it():
    # Held-out labels: the more confident, the more often right. A pool of items at 0.99 is
    # labeled from the lowest threshold the held-out labels allow; a pool crowded just above
    # it, where labels are less often right, is held to a higher one.
    rng = np.random.default_rng(0)
    confidences = rng.uniform(0.5, 1.0, 2000)
    correct = rng.random(2000) < np.clip((confidences - 0.5) * 2.2, 0, 1)
    sure_pool = np.full(100, 0.99)
    plain = al.calibrate_threshold(confidences, correct, sure_pool, z=0.0)
    assert plain is not None
    crowded = np.concatenate([np.full(900, plain.threshold + 0.001), np.full(100, 0.99)])
    weighted = al.calibrate_threshold(confidences, correct, crowded, z=0.0)
    assert weighted is not None
    assert weighted.threshold > plain.threshold
    assert weighted.estimated_accuracy >= 0.95


def separable(count: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(3, size=count)
    centres = np.array([[0, 0], [4, 0], [0, 4]])
    points = centres[labels] + rng.normal(size=(count, 2))
    return [f"{x:.4f},{y:.4f}" for x, y in points], labels


def test_a_classifier_learns_from_the_labeled_items_and_labels_others():
    sources, truth = separable(300)
    featurizer = al.fit_featurizer("tabular-classification", sources)
    classifier = al.fit_classifier(featurizer, sources[:100], truth[:100], 4)
    probs = classifier.probabilities(sources[100:])
    assert probs.shape == (200, 4) and np.allclose(probs[:, 3], 0.0)  # label 3 never seen
    assert np.mean(probs.argmax(axis=1) == truth[100:]) > 0.9
    with pytest.raises(al.FeaturizeError, match="Item 2 is not a CSV row of 2 numbers"):
        classifier.probabilities(["1,2", "1"])


def test_held_out_probabilities_come_from_models_that_did_not_see_the_item():
    sources, truth = separable(100)
    featurizer = al.fit_featurizer("text-classification", sources)
    held = al.held_out_probabilities(featurizer, sources, truth, 3)
    assert held.shape == (100, 3)
    assert 0.85 < np.mean(held.argmax(axis=1) == truth) < 1.0
    few = np.array([0, 0, 0, 1])
    assert al.held_out_probabilities(featurizer, sources[:4], few, 3) is None


def round_inputs(count: int = 400, labeled: int = 100):
    sources, truth = separable(count)
    featurizer = al.fit_featurizer("text-classification", sources)
    classifier = al.fit_classifier(featurizer, sources[:labeled], truth[:labeled], 3)
    pool = classifier.probabilities(sources[labeled:])
    held = al.held_out_probabilities(featurizer, sources[:labeled], truth[:labeled], 3)
    return pool, held, truth[:labeled], truth[labeled:]


def test_a_round_machine_labels_the_sure_items_right_and_asks_about_the_rest():
    pool, held, held_labels, truth = round_inputs()
    plan = al.plan_round(pool, held, held_labels, strategy="margin", batch=20)
    assert plan.threshold is not None and plan.estimated_accuracy >= 0.95
    assert len(plan.machine) >= 200
    assert np.mean([truth[position] == label for position, label, _ in plan.machine]) >= 0.97
    assert all(conf >= plan.threshold for _, _, conf in plan.machine)
    machine = {position for position, _, _ in plan.machine}
    assert len(plan.ask) == min(20, len(pool) - len(plan.machine))
    assert not machine & set(plan.ask)
    assert set(plan.ask) <= set(range(len(pool)))


def test_a_round_with_nothing_to_learn_from_asks_about_a_random_batch():
    plan = al.random_batch(45, 10, seed=1)
    assert (plan.machine, plan.threshold, len(plan.ask), len(set(plan.ask))) == ([], None, 10, 10)
    assert set(plan.ask) <= set(range(45))


def test_without_held_out_labels_nothing_is_machine_labeled():
    pool, _, held_labels, _ = round_inputs()
    plan = al.plan_round(pool, None, held_labels, strategy="entropy", batch=10)
    assert (plan.machine, plan.threshold, len(plan.ask)) == ([], None, 10)


def test_the_plain_loop_takes_its_fixed_threshold():
    pool, held, held_labels, _ = round_inputs(300, 60)
    plan = al.plan_round(pool, held, held_labels, strategy="random", batch=10, fixed_threshold=0.9)
    assert plan.threshold == 0.9
    assert all(conf >= 0.9 for _, _, conf in plan.machine)
    assert len(plan.machine) == int((pool.max(axis=1) >= 0.9).sum())
