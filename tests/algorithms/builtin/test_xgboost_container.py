"""What versions of SageMaker's XGBoost container did differently. Before 1.3-1 it pickled its
Booster into ``xgboost-model``, and the notebooks written for those images (the abalone pipeline's
evaluation script) ``pickle.load`` it: a job of such an image saves the same, which loads and
serves here, while nothing but a Booster unpickles. Before 1.2-2 its real-time endpoint joined a
CSV answer's predictions by commas, which those notebooks split (direct marketing).
"""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
import xgboost as xgb

from algorithms import AlgorithmError, load_model, parse_hyperparameters, resolve_image
from algorithms.distributed import train_distributed
from algorithms.loading import load_containers
from infra.serving.batching import Call, invoke_batch
from tests.algorithms.test_distributed import _shards
from tests.fakes import RecordingReporter

from ..conftest import channel, write_csv

ECR = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost"
HYPERPARAMETERS = {"nthread": "1", "num_round": "10", "objective": "reg:linear"}


def train_with_image(image: str, tmp_path, features, target):
    write_csv(tmp_path / "train" / "t", features, target)
    algorithm = resolve_image(image)
    algorithm(image=image).train(
        channels={"train": channel(tmp_path / "train")},
        hyperparameters=parse_hyperparameters(algorithm, HYPERPARAMETERS),
        model_dir=tmp_path / "model",
        reporter=RecordingReporter(),
    )
    return tmp_path / "model"


@pytest.mark.parametrize("tag", ["0.90-2-cpu-py3", "1.0-1-cpu-py3", "1.2-1", "1.2-2"])
def test_an_image_before_1_3_1_pickles_the_booster(tmp_path, regression_problem, tag):
    features, target = regression_problem
    model_dir = train_with_image(f"{ECR}:{tag}", tmp_path, features, target)
    with open(model_dir / "xgboost-model", "rb") as file:  # as the notebook's evaluation.py
        booster = pickle.load(file)
    expected = booster.predict(xgb.DMatrix(features))
    body = "\n".join(",".join(map(repr, row.tolist())) for row in features).encode()
    served = load_model(model_dir).invoke(body, "text/csv", "text/csv")
    np.testing.assert_allclose([float(v) for v in served.split()], expected, rtol=1e-6)


def test_a_job_on_several_instances_pickles_as_on_one(
    tmp_path, dask_client, local_store, binary_problem
):
    features, labels = binary_problem
    image = f"{ECR}:1.2-1"
    algorithm = resolve_image(image)
    train_distributed(
        algorithm,
        shards=_shards(local_store, features, labels),
        hyperparameters=parse_hyperparameters(
            algorithm, {"objective": "binary:logistic", "num_round": "5"}
        ),
        model_dir=tmp_path / "model",
        reporter=RecordingReporter(),
        client=dask_client,
        store=local_store,
        image=image,
    )
    with open(tmp_path / "model" / "xgboost-model", "rb") as file:
        assert isinstance(pickle.load(file), xgb.Booster)


@pytest.mark.parametrize("image", [f"{ECR}:1.3-1", f"{ECR}:1.7-1", f"{ECR}:3.0-5", "xgboost"])
def test_later_images_save_xgboosts_own_format(tmp_path, regression_problem, image):
    features, target = regression_problem
    model_dir = train_with_image(image, tmp_path, features, target)
    booster = xgb.Booster()
    booster.load_model(str(model_dir / "xgboost-model"))
    assert booster.num_features() == features.shape[1]


class _Shell:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_a_pickle_of_anything_but_a_booster_is_refused_unrun(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "xgboost-model").write_bytes(pickle.dumps(_Shell(), protocol=4))
    with pytest.raises(AlgorithmError, match=r"naming posix\.system; only an XGBoost Booster"):
        load_model(tmp_path / "model")
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(
    ("tag", "one_line"),
    [("0.90-2-cpu-py3", True), ("1.0-1-cpu-py3", True), ("1.2-1", True), ("1.2-2", False),
     ("1.7-1", False), ("3.0-5", False)],
)  # fmt: skip
def test_a_realtime_csv_answer_is_one_comma_joined_line_before_1_2_2(
    tmp_path, regression_problem, tag, one_line
):
    features, target = regression_problem
    model_dir = train_with_image("xgboost", tmp_path, features, target)
    image = f"{ECR}:{tag}"
    model = load_containers([{"Image": image, "ModelDataUrl": str(model_dir)}], store=None)
    rows = ["\n".join(",".join(map(repr, row.tolist())) for row in part) for part in (
        features[:3], features[3:5])]  # fmt: skip
    first, second = invoke_batch(model, [Call(r.encode(), "text/csv", "text/csv") for r in rows])
    expected = xgb.Booster(model_file=str(model_dir / "xgboost-model")).predict(
        xgb.DMatrix(features[:5])
    )
    if one_line:  # as the container's serve.py: ",".join(map(str, preds))
        assert b"\n" not in first.body + second.body
        values = first.body.split(b",") + second.body.split(b",")
    else:
        values = first.body.split() + second.body.split()
    np.testing.assert_allclose([float(v) for v in values], expected, rtol=1e-6)
    # Batch transform (the model's own invoke) keeps one line per record whatever the version.
    assert model.invoke(rows[0].encode(), "text/csv", "text/csv").count(b"\n") == 3
    # JSON answers are the same in every version.
    assert model.realtime_answer(b'{"predictions": []}', "application/json").startswith(b"{")
