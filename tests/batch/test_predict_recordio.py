"""Batch transform of a first-party model on RecordIO-protobuf: an object written by the SDK's
``write_numpy_to_dense_tensor`` (``SplitType`` None, or RecordIO with either BatchStrategy) is
answered in records the SDK's ``RecordDeserializer`` reads, one per input record, in order."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from sagemaker.amazon.common import RecordDeserializer, write_numpy_to_dense_tensor

from algorithms import Channel, load_model, parse_hyperparameters, resolve_image
from algorithms.recordio import RECORDIO
from batch.plan import ByteRange
from batch.predict import RangeTask, run_range
from batch.spec import TransformSpec
from tests.fakes import RecordingReporter


def test_a_record_io_object_is_answered_in_records(local_store, tmp_path) -> None:
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [9, 9]], dtype=np.float32)
    features = (centres[rng.integers(0, 2, size=200)] + rng.normal(size=(200, 2))).astype(
        np.float32
    )
    (tmp_path / "train").mkdir()
    np.savetxt(tmp_path / "train" / "x.csv", features, delimiter=",")
    algorithm = resolve_image("kmeans")
    algorithm().train(
        channels={"train": Channel("train", tmp_path / "train")},
        hyperparameters=parse_hyperparameters(algorithm, {"k": "2", "feature_dim": "2"}),
        model_dir=tmp_path / "model",
        reporter=RecordingReporter(),
    )
    buffer = io.BytesIO()
    write_numpy_to_dense_tensor(buffer, features[:50])
    body = buffer.getvalue()
    local_store.create_bucket("bkt")
    local_store.write_bytes("s3://bkt/in/rows.pbr", body)
    spec = TransformSpec(
        input_uri="s3://bkt/in/",
        output_path="s3://bkt/out/",
        content_type=RECORDIO,
        accept=RECORDIO,
    )

    result = run_range(
        RangeTask(
            spec=spec,
            store=local_store,
            containers=({"Image": "kmeans", "ModelDataUrl": str(tmp_path / "model")},),
            object_index=0,
            object_uri="s3://bkt/in/rows.pbr",
            range=ByteRange(0, 0, len(body)),
            part_uri="s3://bkt/out/.parts/0/0",
        )
    )

    assert result.failure is None
    part = local_store.read_bytes("s3://bkt/out/.parts/0/0")
    records = RecordDeserializer().deserialize(io.BytesIO(part), RECORDIO)
    clusters = [int(r.label["closest_cluster"].float32_tensor.values[0]) for r in records]
    expected = load_model(tmp_path / "model").invoke(
        "\n".join(",".join(map(str, row)) for row in features[:50].tolist()).encode(),
        "text/csv",
        "text/csv",
    )
    assert clusters == [int(float(line.split(",")[0])) for line in expected.decode().split()]


@pytest.mark.parametrize("strategy", ["SingleRecord", "MultiRecord"])
def test_split_type_record_io_answers_one_record_per_input_record_in_order(
    local_store, tmp_path, strategy
) -> None:
    rng = np.random.default_rng(1)
    features = rng.normal(size=(300, 3)).astype(np.float32)
    labels = (features[:, 0] > 0).astype(np.float32)
    (tmp_path / "train").mkdir()
    np.savetxt(tmp_path / "train" / "x.csv", np.column_stack([labels, features]), delimiter=",")
    algorithm = resolve_image("linear-learner")
    algorithm().train(
        channels={"train": Channel("train", tmp_path / "train")},
        hyperparameters=parse_hyperparameters(
            algorithm, {"predictor_type": "binary_classifier", "epochs": "2"}
        ),
        model_dir=tmp_path / "model",
        reporter=RecordingReporter(),
    )
    buffer = io.BytesIO()
    write_numpy_to_dense_tensor(buffer, features[:40])
    body = buffer.getvalue()
    local_store.create_bucket("bkt")
    local_store.write_bytes("s3://bkt/in/rows.pbr", body)
    spec = TransformSpec.from_request(
        {
            "TransformInput": {
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bkt/in/"}},
                "ContentType": RECORDIO,
                "SplitType": "RecordIO",
            },
            "TransformOutput": {"S3OutputPath": "s3://bkt/out/", "Accept": RECORDIO},
            "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
            "BatchStrategy": strategy,
        }
    )

    result = run_range(
        RangeTask(
            spec=spec,
            store=local_store,
            containers=({"Image": "linear-learner", "ModelDataUrl": str(tmp_path / "model")},),
            object_index=0,
            object_uri="s3://bkt/in/rows.pbr",
            range=ByteRange(0, 0, len(body)),
            part_uri="s3://bkt/out/.parts/0/0",
        )
    )

    assert result.failure is None and result.records == 40
    part = local_store.read_bytes("s3://bkt/out/.parts/0/0")
    records = RecordDeserializer().deserialize(io.BytesIO(part), RECORDIO)
    scores = [r.label["score"].float32_tensor.values[0] for r in records]
    expected = json.loads(
        load_model(tmp_path / "model").invoke(
            json.dumps({"instances": features[:40].tolist()}).encode(),
            "application/json",
            "application/json",
        )
    )["predictions"]
    np.testing.assert_allclose(scores, [p["score"] for p in expected], rtol=1e-5)
