"""auto-labeling: the classifier automated labeling trains each round, its held-out output and
its predictions for the pool."""

from __future__ import annotations

import json

import numpy as np
import pytest

from algorithms import DataError, UnsupportedContentType
from algorithms.base import output_data_dir
from algorithms.builtin.auto_labeling import HELD_OUT_FILE

from ..conftest import channel, train

TOPICS = [
    "goal match team striker league coach season",
    "recipe oven flour sauce garlic simmer bake",
    "flight hotel beach passport museum island train",
]


def texts(count: int, seed: int = 0) -> tuple[list[str], list[int]]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(3, size=count).tolist()
    return [" ".join(rng.choice(TOPICS[label].split(), 4)) for label in labels], labels


def write_records(path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(record) + "\n" for record in records))


def test_it_trains_on_labeled_texts_writes_held_out_probabilities_and_labels_the_pool(tmp_path):
    sources, labels = texts(90)
    records = [
        {"id": i, "source": s, "label": y}
        for i, (s, y) in enumerate(zip(sources, labels, strict=True))
    ]
    write_records(tmp_path / "train" / "round-1.jsonl", records)
    pool, truth = texts(30, seed=1)
    write_records(
        tmp_path / "unlabeled" / "pool.jsonl", [{"id": i, "source": s} for i, s in enumerate(pool)]
    )
    result, model, reporter = train(
        "auto-labeling",
        {"num_classes": "3"},
        {
            "train": channel(tmp_path / "train", "application/jsonlines"),
            "unlabeled": channel(tmp_path / "unlabeled", "application/jsonlines"),
        },
        tmp_path / "model",
    )
    assert result.final_metrics["validation:accuracy"] > 0.9
    assert reporter.steps("validation:accuracy") == [1]
    assert any("fitted on 30 unlabeled records too" in line for line in reporter.lines)
    held_out = [
        json.loads(line)
        for line in (output_data_dir(tmp_path / "model") / HELD_OUT_FILE).read_text().splitlines()
    ]
    assert [r["id"] for r in held_out] == list(range(90))  # every record, its keys kept
    assert [r["label"] for r in held_out] == labels
    assert all(len(r["probabilities"]) == 3 for r in held_out)

    body = b"\n".join(json.dumps({"source": s}).encode() for s in pool) + b"\n\n"
    answers = [
        json.loads(line) for line in model.invoke(body, "application/jsonlines", "").splitlines()
    ]
    assert len(answers) == 30
    assert np.mean([a["label"] == t for a, t in zip(answers, truth, strict=True)]) > 0.9
    assert all(a["confidence"] == pytest.approx(max(a["probabilities"])) for a in answers)
    assert all(sum(a["probabilities"]) == pytest.approx(1.0) for a in answers)


def test_rows_of_numbers_are_learned_and_a_pool_row_of_another_width_is_named(tmp_path):
    rng = np.random.default_rng(3)
    labels = rng.integers(2, size=60)
    rows = [f"{y * 4 + rng.normal():.3f},{rng.normal():.3f}" for y in labels]
    records = [{"source": row, "label": int(y)} for row, y in zip(rows, labels, strict=True)]
    write_records(tmp_path / "train" / "rows.jsonl", records)
    _, model, _ = train(
        "auto-labeling",
        {"num_classes": "2", "task_type": "tabular-classification"},
        {"train": channel(tmp_path / "train", "application/jsonlines")},
        tmp_path / "model",
    )
    answers = model.invoke(b'{"source": "8,0"}\n{"source": "-4,0"}\n', "application/jsonlines", "")
    assert [json.loads(line)["label"] for line in answers.splitlines()] == [1, 0]
    with pytest.raises(DataError, match="Item 1 is not a CSV row of 2 numbers"):
        model.invoke(b'{"source": "1,2,3"}\n', "application/jsonlines", "")
    with pytest.raises(UnsupportedContentType):
        model.invoke(b"1,2\n", "text/csv", "")


def test_too_few_labels_to_hold_out_writes_no_held_out_probabilities(tmp_path):
    records = [{"source": "good film", "label": 0}, {"source": "dull plot", "label": 1}]
    write_records(tmp_path / "train" / "r.jsonl", records)
    result, _, _ = train(
        "auto-labeling",
        {"num_classes": "2"},
        {"train": channel(tmp_path / "train", "application/jsonlines")},
        tmp_path / "model",
    )
    assert result.final_metrics == {}
    assert (output_data_dir(tmp_path / "model") / HELD_OUT_FILE).read_text() == ""


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{oops", "a record is not JSON"),
        ('{"label": 0}', "'source' string"),
        ('{"source": "a", "label": 2}', "'label' must be a class index from 0 to 1"),
    ],
)
def test_a_bad_record_is_named_by_file_and_line(tmp_path, line, message):
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "r.jsonl").write_text('{"source": "good", "label": 0}\n' + line + "\n")
    with pytest.raises(DataError, match=message) as raised:
        train(
            "auto-labeling",
            {"num_classes": "2"},
            {"train": channel(tmp_path / "train", "application/jsonlines")},
            tmp_path / "model",
        )
    assert "train/r.jsonl" in str(raised.value) and "line 2" in str(raised.value)
