"""SageMaker's first-party built-ins train on what the SDK's ``record_set`` writes and answer its
predictors: requests in ``RecordSerializer``'s bytes, answers read by ``RecordDeserializer`` under
the output names SageMaker's algorithms use."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from sagemaker.amazon.common import (
    RecordDeserializer,
    RecordSerializer,
    write_numpy_to_dense_tensor,
    write_spmatrix_to_sparse_tensor,
)
from scipy import sparse

from algorithms import Channel
from algorithms.recordio import RECORDIO

from ..conftest import train

# image, hyperparameters, labelled, the answer's label keys
CASES = [
    ("kmeans", {"k": "3", "feature_dim": "3"}, False, {"closest_cluster", "distance_to_cluster"}),
    ("pca", {"num_components": "2", "feature_dim": "3"}, False, {"projection"}),
    (
        "linear-learner",
        {"predictor_type": "binary_classifier", "epochs": "3"},
        True,
        {"predicted_label", "score"},
    ),
    ("randomcutforest", {"feature_dim": "3", "num_trees": "50"}, False, {"score"}),
    (
        "knn",
        {"k": "3", "predictor_type": "classifier", "sample_size": "200", "feature_dim": "3"},
        True,
        {"predicted_label"},
    ),
    (
        "factorization-machines",
        {"feature_dim": "3", "num_factors": "2", "predictor_type": "binary_classifier"},
        True,
        {"predicted_label", "score"},
    ),
]


def _record_set(folder, features, labels=None, *, sparse_rows=False) -> Channel:
    """What ``estimator.record_set(...)`` uploads (and its channel, which names no ContentType)."""
    folder.mkdir()
    buffer = io.BytesIO()
    if sparse_rows:
        write_spmatrix_to_sparse_tensor(buffer, sparse.csr_matrix(features), labels)
    else:
        write_numpy_to_dense_tensor(buffer, features, labels)
    (folder / "matrix_0.pbr").write_bytes(buffer.getvalue())
    return Channel(name=folder.name, path=folder, content_type="text/csv")


@pytest.mark.parametrize(("image", "hyperparameters", "labelled", "keys"), CASES, ids=lambda c: c)
def test_trains_on_record_set_and_answers_the_sdks_record_predictor(
    tmp_path, multiclass_problem, image, hyperparameters, labelled, keys
) -> None:
    features, classes = multiclass_problem
    features = features.astype(np.float32)
    labels = (classes == 1).astype(np.float32) if labelled else None
    channels = {"train": _record_set(tmp_path / "train", features, labels)}
    _, model, _ = train(image, hyperparameters, channels, tmp_path / "model")

    request = RecordSerializer().serialize(features[:5]).read()
    answer = model.invoke(request, RECORDIO, RECORDIO)
    records = RecordDeserializer().deserialize(io.BytesIO(answer), RECORDIO)

    assert len(records) == 5
    assert set(records[0].label) == keys
    as_json = model.invoke(request, RECORDIO, "application/json")
    (answers,) = json.loads(as_json).values()
    first = answers[0]
    for key in keys:
        expected = np.atleast_1d(first[key]).astype(np.float32)
        np.testing.assert_allclose(records[0].label[key].float32_tensor.values, expected)


def test_linear_learner_trains_on_sparse_records(tmp_path, binary_problem) -> None:
    features, labels = binary_problem
    features = np.where(np.abs(features) < 0.5, 0, features).astype(np.float32)
    channels = {
        "train": _record_set(
            tmp_path / "train", features, labels.astype(np.float32), sparse_rows=True
        )
    }
    _, model, _ = train(
        "linear-learner",
        {"predictor_type": "binary_classifier", "epochs": "5"},
        channels,
        tmp_path / "model",
    )
    request = RecordSerializer().serialize(features).read()
    records = RecordDeserializer().deserialize(
        io.BytesIO(model.invoke(request, RECORDIO, RECORDIO)), RECORDIO
    )
    predicted = np.array([r.label["predicted_label"].float32_tensor.values[0] for r in records])
    assert (predicted == labels).mean() > 0.9


def test_json_answers_use_sagemakers_keys_and_read_its_request_forms(
    tmp_path, multiclass_problem
) -> None:
    features, _ = multiclass_problem
    channels = {"train": _record_set(tmp_path / "train", features.astype(np.float32))}
    _, pca, _ = train("pca", {"num_components": "2", "feature_dim": "3"}, channels, tmp_path / "p")
    _, rcf, _ = train("randomcutforest", {"feature_dim": "3"}, channels, tmp_path / "r")
    row = features[0].tolist()
    forms = [
        {"instances": [{"features": row}]},
        {"instances": [{"data": {"features": {"values": row}}}]},
        {  # sparse: zeros left out
            "instances": [{"data": {"features": {"keys": [0, 1, 2], "shape": [3], "values": row}}}]
        },
    ]
    answers = []
    for form in forms:
        body = json.dumps(form).encode()
        projections = json.loads(pca.invoke(body, "application/json", "application/json"))
        scores = json.loads(rcf.invoke(body, "application/json", "application/json"))
        assert set(projections) == {"projections"} and set(scores) == {"scores"}
        answers.append((projections["projections"][0]["projection"], scores["scores"][0]["score"]))
    assert answers[0] == answers[1] == answers[2]
    sparse_line = json.dumps({"data": {"features": {"keys": [1], "shape": [3], "values": [2.0]}}})
    line = pca.invoke(sparse_line.encode(), "application/jsonlines", "application/jsonlines")
    expected = pca.invoke(b"0,2,0\n", "text/csv", "application/jsonlines")
    assert line == expected
