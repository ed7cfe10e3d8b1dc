"""The SDK's scikit-learn script mode on iris, cell by cell: ``upload_data`` of a folder, an
``SKLearn`` estimator with its ``entry_point`` fitted with its log followed, deployed and asked
with the predictor's default NumPy serializer and deserializer, the endpoint deleted, then a
batch transform of ten CSV samples compared with their labels.

Notebook: sagemaker-python-sdk/scikit_learn_iris/
scikit_learn_estimator_example_with_batch_transform.ipynb in aws/amazon-sagemaker-examples
(its last version there), with its ``scikit_learn_iris.py`` verbatim. ``iris.data`` is
synthetic of the same shape (150 rows, 50 of each species, four measurements); the ``%%bash``
cells (``shuf``, ``cut``, ``diff``) are the same steps in Python, and ``aws s3 cp`` is boto3's
download. Left out: the ``%pip install`` cell.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.stack import STACK_START_S

pytestmark = pytest.mark.timeout(STACK_START_S + 420)

# Outside SageMaker ``get_execution_role()`` has no notebook instance to ask; a user names a
# role, as the SDK's documentation says. The platform takes any role ARN.
ROLE = "arn:aws:iam::000000000000:role/SageMakerRole"

# The notebook's training script, as the examples repository holds it (licence header left out).
SCIKIT_LEARN_IRIS_PY = '''
from __future__ import print_function

import argparse
import os

import joblib
import pandas as pd
from sklearn import tree

if __name__ == "__main__":
    parser = argparse.ArgumentParser()

    # Hyperparameters are described here. In this simple example we are just including one
    # hyperparameter.
    parser.add_argument("--max_leaf_nodes", type=int, default=-1)

    # Sagemaker specific arguments. Defaults are set in the environment variables.
    parser.add_argument("--output-data-dir", type=str, default=os.environ["SM_OUTPUT_DATA_DIR"])
    parser.add_argument("--model-dir", type=str, default=os.environ["SM_MODEL_DIR"])
    parser.add_argument("--train", type=str, default=os.environ["SM_CHANNEL_TRAIN"])

    args = parser.parse_args()

    # Take the set of files and read them all into a single pandas dataframe
    input_files = [os.path.join(args.train, file) for file in os.listdir(args.train)]
    if len(input_files) == 0:
        raise ValueError(
            (
                "There are no files in {}.\\n"
                + "This usually indicates that the channel ({}) was incorrectly specified,\\n"
                + "the data specification in S3 was incorrectly specified or the role specified\\n"
                + "does not have permission to access the data."
            ).format(args.train, "train")
        )
    raw_data = [pd.read_csv(file, header=None, engine="python") for file in input_files]
    train_data = pd.concat(raw_data)

    # labels are in the first column
    train_y = train_data.iloc[:, 0]
    train_X = train_data.iloc[:, 1:]

    # Here we support a single hyperparameter, 'max_leaf_nodes'. Note that you can add as many
    # as your training my require in the ArgumentParser above.
    max_leaf_nodes = args.max_leaf_nodes

    # Now use scikit-learn's decision tree classifier to train the model.
    clf = tree.DecisionTreeClassifier(max_leaf_nodes=max_leaf_nodes)
    clf = clf.fit(train_X, train_y)

    # Print the coefficients of the trained classifier, and save the coefficients
    joblib.dump(clf, os.path.join(args.model_dir, "model.joblib"))


def model_fn(model_dir):
    """Deserialized and return fitted model

    Note that this should have the same name as the serialized model in the main method
    """
    clf = joblib.load(os.path.join(model_dir, "model.joblib"))
    return clf
'''

# Each species' mean and spread of sepal length, sepal width, petal length, petal width (UCI's).
SPECIES = {
    "Iris-setosa": ((5.01, 3.43, 1.46, 0.25), (0.35, 0.38, 0.17, 0.11)),
    "Iris-versicolor": ((5.94, 2.77, 4.26, 1.33), (0.52, 0.31, 0.47, 0.20)),
    "Iris-virginica": ((6.59, 2.97, 5.55, 2.03), (0.64, 0.32, 0.55, 0.27)),
}


def iris_data(seed: int = 0) -> str:
    """``iris.data`` as the sample-files bucket holds it: four measurements, then the species."""
    rng = np.random.default_rng(seed)
    lines = []
    for species, (mean, spread) in SPECIES.items():
        for row in np.clip(rng.normal(mean, spread, size=(50, 4)), 0.1, None):
            lines.append(",".join(f"{value:.1f}" for value in row) + f",{species}")
    return "\n".join(lines) + "\n"


def test_scikit_learn_iris_fits_deploys_predicts_and_transforms(
    user_env, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scikit_learn_iris.py").write_text(SCIKIT_LEARN_IRIS_PY)

    # [5] Prefix, session, region, role.
    prefix = "DEMO-scikit-iris"

    import sagemaker

    sagemaker_session = sagemaker.Session()
    region = sagemaker_session.boto_region_name
    role = ROLE  # get_execution_role() in a SageMaker notebook
    assert region == "us-east-1"

    # [7] The data: species mapped to 0/1/2, label first (the download is iris_data()).
    import os

    import boto3
    import pandas as pd

    os.makedirs("./data", exist_ok=True)
    s3_client = boto3.client("s3")
    (tmp_path / "data" / "iris.csv").write_text(iris_data())

    df_iris = pd.read_csv("./data/iris.csv", header=None)
    df_iris[4] = df_iris[4].map({"Iris-setosa": 0, "Iris-versicolor": 1, "Iris-virginica": 2})
    iris = df_iris[[4, 0, 1, 2, 3]].to_numpy()
    np.savetxt("./data/iris.csv", iris, delimiter=",", fmt="%1.1f, %1.3f, %1.3f, %1.3f, %1.3f")

    # [9] Upload the folder.
    WORK_DIRECTORY = "data"
    train_input = sagemaker_session.upload_data(
        WORK_DIRECTORY,
        key_prefix="{}/{}".format(prefix, WORK_DIRECTORY),  # noqa: UP032
    )
    assert train_input == f"s3://{sagemaker_session.default_bucket()}/{prefix}/data"

    # [13] The estimator.
    from sagemaker.sklearn.estimator import SKLearn

    FRAMEWORK_VERSION = "1.2-1"
    script_path = "scikit_learn_iris.py"

    sklearn = SKLearn(
        entry_point=script_path,
        framework_version=FRAMEWORK_VERSION,
        instance_type="ml.c4.xlarge",
        role=role,
        sagemaker_session=sagemaker_session,
        hyperparameters={"max_leaf_nodes": 30},
    )

    # [15] Fit, following the job's log.
    sklearn.fit({"train": train_input})
    printed = capsys.readouterr().out
    assert "Completed - Training job completed" in printed

    # [17] Deploy.
    predictor = sklearn.deploy(initial_instance_count=1, instance_type="ml.m5.xlarge")

    # [19] Thirty test rows: ten of each species.
    import itertools

    shape = pd.read_csv("data/iris.csv", header=None)

    a = [50 * i for i in range(3)]
    b = [40 + i for i in range(10)]
    indices = [i + j for i, j in itertools.product(a, b)]

    test_data = shape.iloc[indices[:-1]]
    test_X = test_data.iloc[:, 1:]
    test_y = test_data.iloc[:, 0]

    # [21] Predict: the SKLearnPredictor sends and reads application/x-npy by default.
    predicted = predictor.predict(test_X.values)
    print(predicted)
    print(test_y.values)
    assert isinstance(predicted, np.ndarray) and predicted.shape == (29,)
    assert (predicted == test_y.values).mean() > 0.9

    # [23] Delete the endpoint.
    predictor.delete_endpoint()
    sagemaker_client = boto3.client("sagemaker")
    with pytest.raises(sagemaker_client.exceptions.ClientError):
        sagemaker_client.describe_endpoint(EndpointName=predictor.endpoint_name)

    # [25] A transformer of the trained estimator.
    transformer = sklearn.transformer(instance_count=1, instance_type="ml.m5.xlarge")

    # [27] %%bash: ten samples of 100 rows (shuf -n 100), split into X (cut -f2-) and Y (-f1).
    rng = np.random.default_rng(3)
    lines = (tmp_path / "data" / "iris.csv").read_text().splitlines()
    for folder in ("batch_data/XY", "batch_data/X", "batch_data/Y"):
        os.makedirs(folder, exist_ok=True)
    for i in range(10):
        sample = [lines[k] for k in rng.permutation(len(lines))[:100]]
        (tmp_path / f"batch_data/XY/iris_sample_{i}.csv").write_text("\n".join(sample) + "\n")
        xs = [line.split(",", 1)[1] for line in sample]
        ys = [line.split(",", 1)[0] for line in sample]
        (tmp_path / f"batch_data/X/iris_sample_X_{i}.csv").write_text("\n".join(xs) + "\n")
        (tmp_path / f"batch_data/Y/iris_sample_Y_{i}.csv").write_text("\n".join(ys) + "\n")

    # [28] Upload the X folder.
    batch_input_s3 = sagemaker_session.upload_data(
        "batch_data/X", key_prefix=prefix + "/batch_input"
    )

    # [30] Transform and wait.
    transformer.transform(batch_input_s3, content_type="text/csv")
    print("Waiting for transform job: " + transformer.latest_transform_job.job_name)
    transformer.wait()

    # [32] Download the output (aws s3 cp --recursive $batch_output/ batch_data/output/).
    batch_output = transformer.output_path
    bucket, _, key_prefix = batch_output.removeprefix("s3://").partition("/")
    os.makedirs("batch_data/output", exist_ok=True)
    listed = s3_client.list_objects_v2(Bucket=bucket, Prefix=key_prefix + "/")["Contents"]
    for item in listed:
        name = item["Key"].rsplit("/", 1)[1]
        s3_client.download_file(bucket, item["Key"], f"batch_data/output/{name}")
    assert sorted(os.listdir("batch_data/output")) == sorted(
        f"iris_sample_X_{i}.csv.out" for i in range(10)
    )

    # [33] %%bash: each sample's predicted labels against its true ones (the notebook's sed
    # strips JSON's brackets and splits on ", "; one CSV line a label reads the same).
    import re

    for i in range(1, 10):
        truth = (tmp_path / f"batch_data/Y/iris_sample_Y_{i}.csv").read_text().split()
        output = (tmp_path / f"batch_data/output/iris_sample_X_{i}.csv.out").read_text()
        labels = [v for v in re.split(r", |\]|\n", re.sub(r'[\["]', "", output)) if v.strip()]
        assert len(labels) == 100
        matches = sum(float(p) == float(t) for p, t in zip(labels, truth, strict=True))
        assert matches >= 90, (i, matches)
