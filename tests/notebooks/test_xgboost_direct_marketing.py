"""SageMaker's XGBoost on the bank direct-marketing data through the SDK v2, cell by cell: the
``Estimator`` of ``image_uris.retrieve("xgboost", ..., "1.2-1")`` fitted on ``csv`` channels with
its log followed, deployed, predicted through ``CSVSerializer`` in mini-batches, deleted.

Notebook: introduction_to_applying_machine_learning/xgboost_direct_marketing/
xgboost_direct_marketing_sagemaker.ipynb in aws/amazon-sagemaker-examples (its last version
there). ``bank-additional-full.csv`` is synthetic of the same columns (``cells``). Left out: the
exploration cells (tables and plots only). Two lines follow today's pandas and NumPy, where the
notebook's spelling no longer runs: ``np.in1d`` is ``np.isin`` (NumPy 2.4 removed it), and
``get_dummies`` asks for the 0/1 integers it made before pandas 2 (now booleans, which the CSV
would spell ``True``); ``np.split`` of a frame is its ``iloc`` slices (pandas 3 gives arrays).
"""

from __future__ import annotations

import pytest

from tests.notebooks.cells import ROLE, bank_marketing_frame
from tests.stack import STACK_START_S

pytestmark = pytest.mark.timeout(STACK_START_S + 240)

ROWS = 4000


def test_direct_marketing_fits_deploys_and_predicts(user_env, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)

    # [1] Role, session, prefix, default bucket.
    import boto3
    import sagemaker

    role = ROLE  # get_execution_role() in a SageMaker notebook (see cells.ROLE)
    sess = sagemaker.Session()
    prefix = "sagemaker/DEMO-xgboost-dm"
    bucket = sess.default_bucket()

    # [3] Libraries.
    import numpy as np
    import pandas as pd
    from sagemaker import image_uris
    from sagemaker.estimator import Estimator
    from sagemaker.inputs import TrainingInput
    from sagemaker.serializers import CSVSerializer

    # [5] The data set (the notebook unzips bank-additional.zip).
    (tmp_path / "bank-additional").mkdir()
    bank_marketing_frame(ROWS).to_csv("./bank-additional/bank-additional-full.csv", index=False)

    # [7] Read it.
    data = pd.read_csv("./bank-additional/bank-additional-full.csv")
    pd.set_option("display.max_columns", 500)
    pd.set_option("display.max_rows", 20)

    # [17] Indicator features and one-hot categories.
    data["no_previous_contact"] = np.where(data["pdays"] == 999, 1, 0)
    data["not_working"] = np.where(np.isin(data["job"], ["student", "retired", "unemployed"]), 1, 0)
    model_data = pd.get_dummies(data, dtype=np.uint8)

    # [19] Drop what is not known at prediction time.
    model_data = model_data.drop(
        ["duration", "emp.var.rate", "cons.price.idx", "cons.conf.idx", "euribor3m", "nr.employed"],
        axis=1,
    )

    # [21] Shuffle, then 70 % train, 20 % validation, 10 % test.
    shuffled = model_data.sample(frac=1, random_state=1729)
    cuts = [int(0.7 * len(model_data)), int(0.9 * len(model_data))]
    train_data, validation_data, test_data = (
        shuffled.iloc[: cuts[0]],
        shuffled.iloc[cuts[0] : cuts[1]],
        shuffled.iloc[cuts[1] :],
    )

    # [23] Label first, no header.
    pd.concat([train_data["y_yes"], train_data.drop(["y_no", "y_yes"], axis=1)], axis=1).to_csv(
        "train.csv", index=False, header=False
    )
    pd.concat(
        [validation_data["y_yes"], validation_data.drop(["y_no", "y_yes"], axis=1)], axis=1
    ).to_csv("validation.csv", index=False, header=False)

    # [25] Upload (the key prefix names a folder train.csv/ holding train.csv).
    sess.upload_data(path="train.csv", bucket=bucket, key_prefix=prefix + "/train/train.csv")
    sess.upload_data(
        path="validation.csv", bucket=bucket, key_prefix=prefix + "/validation/validation.csv"
    )

    # [27] The XGBoost 1.2-1 image.
    container = image_uris.retrieve("xgboost", boto3.Session().region_name, "1.2-1")

    # [29] The channels, content type "csv".
    s3_input_train = TrainingInput(s3_data=f"s3://{bucket}/{prefix}/train", content_type="csv")
    s3_input_validation = TrainingInput(
        s3_data=f"s3://{bucket}/{prefix}/validation/", content_type="csv"
    )

    # [31] The estimator, its hyperparameters, fit (following the job's log).
    xgb = Estimator(
        container,
        role,
        instance_count=1,
        instance_type="ml.m4.xlarge",
        output_path=f"s3://{bucket}/{prefix}/output",
    )
    xgb.set_hyperparameters(
        max_depth=5,
        eta=0.2,
        gamma=4,
        min_child_weight=6,
        subsample=0.8,
        objective="binary:logistic",
        num_round=100,
    )
    xgb.fit({"train": s3_input_train, "validation": s3_input_validation})
    printed = capsys.readouterr().out
    assert "[99]#011train-logloss:" in printed and "validation-logloss:" in printed
    assert "Completed - Training job completed" in printed

    # [33] Deploy.
    xgb_predictor = xgb.deploy(initial_instance_count=1, instance_type="ml.m4.xlarge")

    # [35] CSV in.
    xgb_predictor.serializer = CSVSerializer()

    # [37] Predict the test set in mini-batches of 500 rows.
    def predict(data, rows=500):
        split_array = np.array_split(data, int(data.shape[0] / float(rows) + 1))
        predictions = ""
        for array in split_array:
            predictions = ",".join([predictions, xgb_predictor.predict(array).decode("utf-8")])
        return np.fromstring(predictions[1:], sep=",")

    predictions = predict(test_data.drop(["y_no", "y_yes"], axis=1).to_numpy())
    assert len(predictions) == len(test_data)
    assert ((predictions >= 0) & (predictions <= 1)).all()

    # [39] The confusion matrix.
    matrix = pd.crosstab(
        index=test_data["y_yes"],
        columns=np.round(predictions),
        rownames=["actuals"],
        colnames=["predictions"],
    )
    print(matrix)
    accuracy = (np.round(predictions) == test_data["y_yes"].to_numpy()).mean()
    assert accuracy > 0.8

    # [43] Clean up.
    xgb_predictor.delete_endpoint()
    client = boto3.client("sagemaker")
    with pytest.raises(client.exceptions.ClientError):
        client.describe_endpoint(EndpointName=xgb_predictor.endpoint_name)
