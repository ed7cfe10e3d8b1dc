"""Each built-in reads the ContentType spellings SageMaker documents for it, legacy ones
included, and refuses others naming the spellings it reads."""

from __future__ import annotations

import numpy as np
import pytest
import xgboost as xgb

from algorithms import Channel, UnsupportedContentType, load_model, resolve_image
from algorithms.codecs import training_media_type
from algorithms.data import read_channel
from algorithms.recordio import RECORDIO, encode_record, frame

CSV_ROWS = b"1,0.5,2\n0,1.5,3\n"
LIBSVM_ROWS = b"1 0:0.5 1:2\n0 0:1.5 1:3\n"

# (built-in, ContentType as a client writes it, the type it is read as; None: refused)
TRAINING = [
    ("xgboost", "text/csv", "text/csv"),
    ("xgboost", "csv", "text/csv"),
    ("xgboost", "text/csv;label_size=1", "text/csv"),
    ("xgboost", "text/csv; label_size=1", "text/csv"),
    ("xgboost", "text/libsvm", "text/libsvm"),
    ("xgboost", "libsvm", "text/libsvm"),
    ("xgboost", "text/x-libsvm", "text/libsvm"),
    ("xgboost", "application/jsonlines", "application/jsonlines"),
    ("xgboost", "application/x-recordio-protobuf", None),
    ("xgboost", "application/x-parquet", None),
    ("xgboost", "text/plain", None),
    ("lightgbm", "text/csv", "text/csv"),
    ("lightgbm", "text/libsvm", "text/libsvm"),
    ("lightgbm", "image/png", None),
    ("linear-learner", "text/csv", "text/csv"),
    ("linear-learner", "text/csv;label_size=1", "text/csv"),
    ("linear-learner", RECORDIO, RECORDIO),
    ("knn", "text/csv;label_size=1", "text/csv"),
    ("kmeans", "text/csv", "text/csv"),
    ("kmeans", "text/csv;label_size=0", "text/csv"),
    ("pca", "text/csv;label_size=0", "text/csv"),
    ("randomcutforest", "text/csv;label_size=0", "text/csv"),
    ("randomcutforest", "text/csv;label_size=1", "text/csv"),
    ("factorization-machines", "text/csv", "text/csv"),
    (
        "factorization-machines",
        RECORDIO,
        RECORDIO,
    ),
]


@pytest.mark.parametrize(("image", "spelling", "media_type"), TRAINING)
def test_training_content_types(tmp_path, image, spelling, media_type) -> None:
    algorithm = resolve_image(image)
    if media_type is None:
        with pytest.raises(UnsupportedContentType) as caught:
            training_media_type(spelling, algorithm.training_content_types)
        assert f"use one of {', '.join(algorithm.training_content_types)}" in str(caught.value)
        return
    assert training_media_type(spelling, algorithm.training_content_types) == media_type
    (tmp_path / "train").mkdir()
    rows = LIBSVM_ROWS if media_type == "text/libsvm" else CSV_ROWS
    if media_type == "application/jsonlines":
        rows = b'{"features": [0.5, 2], "label": 1}\n{"features": [1.5, 3], "label": 0}\n'
    if media_type == RECORDIO:
        rows = b"".join(
            frame(encode_record({"values": np.array(x)}, {"values": np.array(y)}))
            for x, y in (([0.5, 2], 1), ([1.5, 3], 0))
        )
    (tmp_path / "train" / "part").write_bytes(rows)
    label_size = "label_size=0" not in spelling
    dataset = read_channel(
        Channel("train", tmp_path / "train", spelling),
        labelled=label_size,
        allow_sparse=True,
        allow_missing=True,
    )
    assert dataset.rows == 2 and dataset.feature_count == 3 - label_size


# (ContentType of an xgboost endpoint request, accepted)
XGBOOST_INFERENCE = [
    ("text/csv", b"0.5,2\n1.5,3\n"),
    ("csv", b"0.5,2\n1.5,3\n"),
    ("text/csv; charset=utf-8", b"0.5,2\n1.5,3\n"),
    ("text/libsvm", b"0:0.5 1:2\n0:1.5 1:3\n"),
    ("libsvm", b"1 0:0.5 1:2\n0 0:1.5 1:3\n"),
    ("text/x-libsvm", b"1 0:0.5 1:2\n0 0:1.5 1:3\n"),
    ("application/json", b"[[0.5, 2], [1.5, 3]]"),
    ("application/jsonlines", b"[0.5, 2]\n[1.5, 3]\n"),
    ("application/x-recordio-protobuf", None),
    ("application/x-npy", None),
]


@pytest.mark.parametrize(("content_type", "body"), XGBOOST_INFERENCE)
def test_xgboost_inference_content_types(tmp_path, content_type, body) -> None:
    features = np.array([[0.5, 2], [1.5, 3], [2.5, 1]])
    booster = xgb.train({"nthread": 1}, xgb.DMatrix(features, label=[1, 0, 1]), 3)
    (tmp_path / "xgboost-model").write_bytes(bytes(booster.save_raw("json")))
    model = load_model(tmp_path)
    if body is None:
        with pytest.raises(UnsupportedContentType, match="text/csv, text/libsvm, application/json"):
            model.invoke(b"", content_type, "text/csv")
        return
    answer = model.invoke(body, content_type, "text/csv")
    expected = booster.predict(xgb.DMatrix(features[:2]))
    np.testing.assert_allclose(np.array(answer.split(), dtype=float), expected, rtol=1e-6)


def test_libsvm_requests_are_joined_one_line_a_record(tmp_path) -> None:
    """An endpoint joins concurrent libsvm requests as it joins CSV ones; each gets its own."""
    from infra.serving.batching import Call, invoke_batch

    features = np.array([[0.5, 2], [1.5, 3], [2.5, 1]])
    booster = xgb.train({"nthread": 1}, xgb.DMatrix(features, label=[1, 0, 1]), 3)
    (tmp_path / "xgboost-model").write_bytes(bytes(booster.save_raw("json")))
    model = load_model(tmp_path)
    calls = [
        Call(b"1 0:0.5 1:2\n", "text/libsvm", "text/csv"),
        Call(b"0:1.5 1:3\n0:2.5 1:1\n", "text/x-libsvm", "text/csv"),
    ]
    first, second = invoke_batch(model, calls)
    expected = booster.predict(xgb.DMatrix(features))
    assert np.array(first.body.split(), dtype=float) == pytest.approx(expected[:1], rel=1e-6)
    assert np.array(second.body.split(), dtype=float) == pytest.approx(expected[1:], rel=1e-6)
