"""Batch transform of a script-mode (framework) model with its default handlers: a whole
``application/x-npy`` object in, its ``.npy`` predictions out, as SageMaker's inference toolkit
answers; and CSV lines one prediction a line."""

from __future__ import annotations

import io

import joblib
import numpy as np
from sklearn.tree import DecisionTreeClassifier

from algorithms.manifest import write_manifest
from batch.plan import ByteRange
from batch.predict import RangeTask, run_range
from batch.spec import TransformSpec

ROWS = np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]])
LABELS = np.array([0.0, 2.0, 1.0])
HANDLERS = """
import os

import joblib


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))
"""


def script_model(tmp_path):
    model_dir = tmp_path / "model"
    (model_dir / "code").mkdir(parents=True)
    joblib.dump(
        DecisionTreeClassifier(random_state=0).fit(ROWS, LABELS), model_dir / "model.joblib"
    )
    (model_dir / "code" / "train.py").write_text(HANDLERS)
    write_manifest(
        model_dir,
        algorithm="script",
        hyperparameters={},
        feature_count=0,
        details={"program": "train.py"},
    )
    return model_dir


def run(local_store, model_dir, body: bytes, **spec_fields):
    local_store.create_bucket("bkt")
    local_store.write_bytes("s3://bkt/in/rows", body)
    spec = TransformSpec(input_uri="s3://bkt/in/", output_path="s3://bkt/out/", **spec_fields)
    return run_range(
        RangeTask(
            spec=spec,
            store=local_store,
            containers=({"Image": "sagemaker-scikit-learn:1.2-1", "ModelDataUrl": str(model_dir)},),
            object_index=0,
            object_uri="s3://bkt/in/rows",
            range=ByteRange(0, 0, len(body)),
            part_uri="s3://bkt/out/.parts/0/0",
        )
    )


def test_a_numpy_object_is_answered_in_numpy(local_store, tmp_path) -> None:
    buffer = io.BytesIO()
    np.save(buffer, ROWS)

    result = run(
        local_store,
        script_model(tmp_path),
        buffer.getvalue(),
        content_type="application/x-npy",
        accept="application/x-npy",
    )

    assert result.failure is None
    part = local_store.read_bytes("s3://bkt/out/.parts/0/0")
    np.testing.assert_array_equal(np.load(io.BytesIO(part)), LABELS)


def test_csv_lines_are_answered_one_prediction_a_line(local_store, tmp_path) -> None:
    body = "".join(",".join(map(str, row)) + "\n" for row in ROWS).encode()

    result = run(local_store, script_model(tmp_path), body, split_type="Line")

    assert result.failure is None and result.records == 3
    assert local_store.read_bytes("s3://bkt/out/.parts/0/0") == b"0.0\n2.0\n1.0\n"
