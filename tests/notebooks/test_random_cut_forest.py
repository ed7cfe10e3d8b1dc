"""SageMaker's Random Cut Forest on the NYC-taxi series, shingled, cell by cell with the SDK v2:
``RandomCutForest(...).fit(rcf.record_set(shingled))``, deployed, asked first with the
predictor's defaults (RecordIO-protobuf both ways) then, as the notebook does, with
``CSVSerializer``/``JSONDeserializer``, and anomalies picked by the notebook's
``mean + 3 * std`` cutoff.

Notebook: introduction_to_amazon_algorithms/random_cut_forest/random_cut_forest.ipynb in
aws/amazon-sagemaker-examples, its epilogue (shingling by 48 half-hours). ``nyc_taxi.csv`` is
synthetic of the same shape (a value every half hour, daily and weekly cycles) over 30 days
instead of 215, with one injected burst; the unshingled first half of the notebook is the same
calls on one column and is left out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.notebooks.cells import ROLE
from tests.stack import STACK_START_S

pytestmark = pytest.mark.timeout(STACK_START_S + 240)

DAYS = 30
BURST = slice(700, 712)  # six hours of unusual traffic, in the 15th day


def nyc_taxi_frame(seed: int = 0) -> pd.DataFrame:
    """``nyc_taxi.csv``'s columns: a timestamp every half hour and the passenger count."""
    rng = np.random.default_rng(seed)
    steps = np.arange(DAYS * 48)
    daily = np.sin(2 * np.pi * steps / 48 - 1.5) + 0.4 * np.sin(4 * np.pi * steps / 48)
    weekly = 0.3 * np.sin(2 * np.pi * steps / (7 * 48))
    value = 15_000 + 6_000 * (daily + weekly) + rng.normal(scale=500, size=steps.size)
    value[BURST] += 12_000
    timestamps = pd.date_range("2014-07-01", periods=steps.size, freq="30min")
    return pd.DataFrame({"timestamp": timestamps.astype(str), "value": value.round().astype(int)})


def test_random_cut_forest_on_a_shingled_series_flags_the_burst(user_env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    nyc_taxi_frame().to_csv("nyc_taxi.csv", index=False)

    # [2] Bucket, prefix, role, region.
    import boto3
    import sagemaker

    bucket = sagemaker.Session().default_bucket()
    execution_role = ROLE  # sagemaker.get_execution_role() in a SageMaker notebook
    region = boto3.Session().region_name
    assert region == "us-east-1"

    # [4] The data (the notebook downloads it from the sample bucket).
    taxi_data = pd.read_csv("nyc_taxi.csv", delimiter=",")

    # [Epilogue] Shingle by a day of half hours.
    def shingle(data, shingle_size):
        num_data = len(data)
        shingled_data = np.zeros((num_data - shingle_size, shingle_size))
        for n in range(num_data - shingle_size):
            shingled_data[n] = data[n : (n + shingle_size)]
        return shingled_data

    shingle_size = 48
    prefix_shingled = "sagemaker/randomcutforest_shingled"
    taxi_data_shingled = shingle(taxi_data.values[:, 1], shingle_size)

    from sagemaker import RandomCutForest

    rcf = RandomCutForest(
        role=execution_role,
        instance_count=1,
        instance_type="ml.m4.xlarge",
        data_location=f"s3://{bucket}/{prefix_shingled}/",
        output_path=f"s3://{bucket}/{prefix_shingled}/output",
        num_samples_per_tree=512,
        num_trees=50,
    )
    rcf.fit(rcf.record_set(taxi_data_shingled))

    rcf_inference = rcf.deploy(initial_instance_count=1, instance_type="ml.m4.xlarge")
    try:
        # The RandomCutForestPredictor's defaults: RecordIO-protobuf out and back.
        records = rcf_inference.predict(taxi_data_shingled[:6])
        default_scores = [r.label["score"].float32_tensor.values[0] for r in records]
        assert len(default_scores) == 6

        # As the notebook asks: CSV in, JSON out, {"scores": [{"score": ...}, ...]}.
        from sagemaker.deserializers import JSONDeserializer
        from sagemaker.serializers import CSVSerializer

        rcf_inference.serializer = CSVSerializer()
        rcf_inference.deserializer = JSONDeserializer()
        results = rcf_inference.predict(taxi_data_shingled)
        scores = np.array([datum["score"] for datum in results["scores"]])
        assert scores[:6] == pytest.approx(default_scores, rel=1e-6)

        # The shingled score distribution, its cutoff, the anomalous shingles.
        score_mean = scores.mean()
        score_std = scores.std()
        score_cutoff = score_mean + 3 * score_std
        anomaly_indices = np.arange(len(scores))[scores > score_cutoff]
        print(f"mean {score_mean:.3f}, std {score_std:.3f}, cutoff {score_cutoff:.3f}")
    finally:
        sagemaker.Session().delete_endpoint(rcf_inference.endpoint_name)

    # SageMaker's scale (normal shingles about 1), and every flagged shingle holds the burst.
    assert 0.5 < np.median(scores) < 1.5
    assert len(anomaly_indices) > 0
    holds_burst = (anomaly_indices + shingle_size > BURST.start) & (anomaly_indices < BURST.stop)
    assert holds_burst.all()
