"""SageMaker's XGBoost on the abalone data in libsvm, from boto3, cell by cell: a training job,
a tuning job, the best trial's model hosted at an endpoint, invoked with ``text/x-libsvm``; and
the model a user downloads predicts, with the ``xgboost`` library, what the endpoint answers.

Notebook: introduction_to_amazon_algorithms/xgboost_abalone/xgboost_abalone.ipynb in
aws/amazon-sagemaker-examples (its last version there, before it moved to
archived/_old-folder-structure/). Its data (``abalone.train``, ``.validation``, ``.test`` in
libsvm) is synthetic of the same shape (``cells``), written where its download would put it.
Sizes are small: 2 tuning trials instead of 6, up to 400 rounds instead of 4,000, each status
poll 2 s instead of 60 s.
"""

from __future__ import annotations

import io
import tarfile

import pytest

from tests.notebooks.cells import ROLE, abalone_libsvm
from tests.stack import STACK_START_S

pytestmark = pytest.mark.timeout(STACK_START_S + 300)

POLL_S = 2  # the notebook sleeps 60 s between its polls
ROWS = 1000


def write_abalone_split(directory) -> None:
    """The sample bucket's abalone.train/.validation/.test: 70/15/15 of abalone.libsvm."""
    lines = abalone_libsvm(ROWS)
    cut_train, cut_validation = int(0.7 * ROWS), int(0.85 * ROWS)
    parts = {
        "train": lines[:cut_train],
        "validation": lines[cut_train:cut_validation],
        "test": lines[cut_validation:],
    }
    for category, part in parts.items():
        (directory / f"abalone.{category}").write_text("\n".join(part) + "\n")


def test_xgboost_abalone_trains_tunes_hosts_and_its_model_loads_in_xgboost(
    user_env, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    write_abalone_split(tmp_path)

    # [5] Clients, buckets and prefixes; the split data set copied to the output bucket.
    import time

    import boto3
    import sagemaker

    role = ROLE  # sagemaker.get_execution_role() in a SageMaker notebook (see cells.ROLE)
    region = boto3.Session().region_name
    s3_client = boto3.client("s3")
    output_bucket = sagemaker.Session().default_bucket()
    output_prefix = "sagemaker/DEMO-xgboost-abalone-default"
    output_bucket_path = f"s3://{output_bucket}"
    for data_category in ["train", "test", "validation"]:
        output_key = f"{output_prefix}/{data_category}/abalone.{data_category}"
        data_filename = f"abalone.{data_category}"
        s3_client.upload_file(data_filename, output_bucket, output_key)

    # [7] The XGBoost 1.7-1 image and the SageMaker client.
    container = sagemaker.image_uris.retrieve("xgboost", region, "1.7-1")
    client = boto3.client("sagemaker", region_name=region)
    deploy_amt_model = True

    # [9] The training job on the libsvm channels, polled until it ends.
    from time import gmtime, strftime

    training_job_name = f"DEMO-xgboost-regression-{strftime('%Y-%m-%d-%H-%M-%S', gmtime())}"

    def channel(name):
        return {
            "ChannelName": name,
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": f"{output_bucket_path}/{output_prefix}/{name}",
                    "S3DataDistributionType": "FullyReplicated",
                }
            },
            "ContentType": "libsvm",
            "CompressionType": "None",
        }

    create_training_params = {
        "AlgorithmSpecification": {"TrainingImage": container, "TrainingInputMode": "File"},
        "RoleArn": role,
        "OutputDataConfig": {
            "S3OutputPath": f"{output_bucket_path}/{output_prefix}/single-xgboost"
        },
        "ResourceConfig": {
            "InstanceCount": 1,
            "InstanceType": "ml.m5.2xlarge",
            "VolumeSizeInGB": 5,
        },
        "TrainingJobName": training_job_name,
        "HyperParameters": {
            "max_depth": "5",
            "eta": "0.2",
            "gamma": "4",
            "min_child_weight": "6",
            "subsample": "0.7",
            "objective": "reg:linear",
            "num_round": "50",
            "verbosity": "2",
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        "InputDataConfig": [channel("train"), channel("validation")],
    }
    client.create_training_job(**create_training_params)
    status = client.describe_training_job(TrainingJobName=training_job_name)["TrainingJobStatus"]
    print(status)
    while status != "Completed" and status != "Failed":
        time.sleep(POLL_S)
        status = client.describe_training_job(TrainingJobName=training_job_name)[
            "TrainingJobStatus"
        ]
        print(status)
    assert status == "Completed", client.describe_training_job(TrainingJobName=training_job_name)

    # [12] The tuning job (Bayesian, validation:rmse), polled until it ends.
    tuning_job_name = "DEMO-xgboost-reg-" + strftime("%d-%H-%M-%S", gmtime())
    tuning_job_config = {
        "ParameterRanges": {
            "CategoricalParameterRanges": [],
            "ContinuousParameterRanges": [
                {"MaxValue": "0.5", "MinValue": "0.1", "Name": "eta"},
                {"MaxValue": "5", "MinValue": "0", "Name": "gamma"},
                {"MaxValue": "120", "MinValue": "0", "Name": "min_child_weight"},
                {"MaxValue": "1", "MinValue": "0.5", "Name": "subsample"},
                {"MaxValue": "2", "MinValue": "0", "Name": "alpha"},
            ],
            "IntegerParameterRanges": [
                {"MaxValue": "10", "MinValue": "0", "Name": "max_depth"},
                {"MaxValue": "400", "MinValue": "1", "Name": "num_round"},  # 4000 there
            ],
        },
        "ResourceLimits": {"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 2},
        "Strategy": "Bayesian",
        "HyperParameterTuningJobObjective": {"MetricName": "validation:rmse", "Type": "Minimize"},
    }
    training_job_definition = {
        "AlgorithmSpecification": {"TrainingImage": container, "TrainingInputMode": "File"},
        "InputDataConfig": [channel("train"), channel("validation")],
        "OutputDataConfig": {
            "S3OutputPath": f"{output_bucket_path}/{output_prefix}/single-xgboost"
        },
        "ResourceConfig": {
            "InstanceCount": 1,
            "InstanceType": "ml.m5.2xlarge",
            "VolumeSizeInGB": 5,
        },
        "RoleArn": role,
        "StaticHyperParameters": {"objective": "reg:linear", "verbosity": "2"},
        "StoppingCondition": {"MaxRuntimeInSeconds": 43200},
    }
    client.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=tuning_job_name,
        HyperParameterTuningJobConfig=tuning_job_config,
        TrainingJobDefinition=training_job_definition,
    )
    status = client.describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=tuning_job_name
    )["HyperParameterTuningJobStatus"]
    print(status)
    while status != "Completed" and status != "Failed":
        time.sleep(POLL_S)
        status = client.describe_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=tuning_job_name
        )["HyperParameterTuningJobStatus"]
        print(status)
    assert status == "Completed"

    # [14] The model of the best trial (deploy_amt_model), or of the training job.
    if deploy_amt_model:
        training_of_model_to_be_hosted = client.describe_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=tuning_job_name
        )["BestTrainingJob"]["TrainingJobName"]
    else:
        training_of_model_to_be_hosted = training_job_name
    model_name = f"{training_of_model_to_be_hosted}-model"
    print(model_name)
    info = client.describe_training_job(TrainingJobName=training_of_model_to_be_hosted)
    model_data = info["ModelArtifacts"]["S3ModelArtifacts"]
    print(model_data)
    primary_container = {"Image": container, "ModelDataUrl": model_data}
    create_model_response = client.create_model(
        ModelName=model_name, ExecutionRoleArn=role, PrimaryContainer=primary_container
    )
    print(create_model_response["ModelArn"])

    # [16] The endpoint configuration.
    endpoint_config_name = f"DEMO-XGBoostEndpointConfig-{strftime('%Y-%m-%d-%H-%M-%S', gmtime())}"
    create_endpoint_config_response = client.create_endpoint_config(
        EndpointConfigName=endpoint_config_name,
        ProductionVariants=[
            {
                "InstanceType": "ml.m5.xlarge",
                "InitialVariantWeight": 1,
                "InitialInstanceCount": 1,
                "ModelName": model_name,
                "VariantName": "AllTraffic",
            }
        ],
    )
    print(f"Endpoint Config Arn: {create_endpoint_config_response['EndpointConfigArn']}")

    # [18] The endpoint, polled while Creating.
    endpoint_name = f"DEMO-XGBoostEndpoint-{strftime('%Y-%m-%d-%H-%M-%S', gmtime())}"
    create_endpoint_response = client.create_endpoint(
        EndpointName=endpoint_name, EndpointConfigName=endpoint_config_name
    )
    print(create_endpoint_response["EndpointArn"])
    resp = client.describe_endpoint(EndpointName=endpoint_name)
    status = resp["EndpointStatus"]
    while status == "Creating":
        print(f"Status: {status}")
        time.sleep(POLL_S)
        resp = client.describe_endpoint(EndpointName=endpoint_name)
        status = resp["EndpointStatus"]
    print(f"Arn: {resp['EndpointArn']}")
    print(f"Status: {status}")
    assert status == "InService", resp

    # [20] The runtime client.
    runtime_client = boto3.client("runtime.sagemaker", region_name=region)

    # [22] The test file (the notebook downloads it again; here it is already on disk).
    FILE_TEST = "abalone.test"

    # [24] Its first line alone.
    (tmp_path / "abalone.single.test").write_text(
        (tmp_path / FILE_TEST).read_text().splitlines()[0] + "\n"
    )

    # [25] One prediction, as text/x-libsvm.
    import math

    file_name = "abalone.single.test"
    with open(file_name) as f:
        payload = f.read().strip()
    response = runtime_client.invoke_endpoint(
        EndpointName=endpoint_name, ContentType="text/x-libsvm", Body=payload
    )
    result = response["Body"].read()
    result = result.decode("utf-8")
    result = result.split(",")
    result = [math.ceil(float(i)) for i in result]
    label = payload.strip(" ").split()[0]
    print(f"Label: {label}\nPrediction: {result[0]}")

    # [27] Batches of records, one line each.
    import sys

    def do_predict(data, endpoint_name, content_type):
        payload = "\n".join(data)
        response = runtime_client.invoke_endpoint(
            EndpointName=endpoint_name, ContentType=content_type, Body=payload
        )
        result = response["Body"].read()
        result = result.decode("utf-8")
        result = result.strip("\n").split("\n")
        preds = [float(num) for num in result]
        preds = [math.ceil(num) for num in preds]
        return preds

    def batch_predict(data, batch_size, endpoint_name, content_type):
        items = len(data)
        arrs = []
        for offset in range(0, items, batch_size):
            if offset + batch_size < items:
                results = do_predict(
                    data[offset : (offset + batch_size)], endpoint_name, content_type
                )
                arrs.extend(results)
            else:
                arrs.extend(do_predict(data[offset:items], endpoint_name, content_type))
            sys.stdout.write(".")
        return arrs

    # [29] The median absolute percent error over the test set.
    import numpy as np

    with open(FILE_TEST) as f:
        payload = f.read().strip()
    labels = [int(line.split(" ")[0]) for line in payload.split("\n")]
    test_data = [line for line in payload.split("\n")]
    preds = batch_predict(test_data, 100, endpoint_name, "text/x-libsvm")
    mdape = np.median(np.abs(np.array(labels) - np.array(preds)) / np.array(labels))
    print("\n Median Absolute Percent Error (MdAPE) = ", mdape)
    assert len(preds) == len(labels) and result[0] == preds[0]
    assert mdape < 0.4

    # Beyond the notebook: the hosted model, downloaded, opens in xgboost and predicts the same.
    import xgboost

    bucket, key = model_data.removeprefix("s3://").split("/", 1)
    tarball = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(tarball)) as tar:
        tar.extract("xgboost-model", path=tmp_path, filter="data")
    booster = xgboost.Booster()
    booster.load_model(str(tmp_path / "xgboost-model"))
    local = booster.predict(xgboost.DMatrix(f"{FILE_TEST}?format=libsvm"))
    answered = runtime_client.invoke_endpoint(
        EndpointName=endpoint_name, ContentType="text/x-libsvm", Body=payload
    )["Body"].read()
    hosted = np.array([float(line) for line in answered.decode().split("\n") if line])
    np.testing.assert_allclose(hosted, local, rtol=1e-5, atol=1e-5)

    # [31] Delete the endpoint.
    client.delete_endpoint(EndpointName=endpoint_name)

    # Beyond the notebook: it is gone, and within moments (the web's one-second route cache) it
    # answers no invocation.
    with pytest.raises(client.exceptions.ClientError):
        client.describe_endpoint(EndpointName=endpoint_name)
    deadline = time.monotonic() + 15
    while True:
        try:
            runtime_client.invoke_endpoint(
                EndpointName=endpoint_name, ContentType="text/x-libsvm", Body=payload
            )
        except runtime_client.exceptions.ClientError:
            break
        assert time.monotonic() < deadline, "the deleted endpoint still answers"
        time.sleep(0.5)
