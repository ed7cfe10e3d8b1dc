"""The SageMaker Python SDK's processors, unchanged, against the live server: ``SKLearnProcessor``
and ``ScriptProcessor`` upload the code, create the job and read it back.

S3 is moto's server, which the platform's store is pointed at for these tests, and the SDK
reaches through ``AWS_ENDPOINT_URL_S3``; the flow's work runs in the test, as the serve process
would run it.
"""

from __future__ import annotations

import uuid

import boto3
import pytest

from console.processing.models import ProcessingJob
from flows.processing import run_processing_job
from tests.conftest import claim_bucket

pytestmark = pytest.mark.django_db(transaction=True)

ROLE = "arn:aws:iam::000000000000:role/sagebrush"
PREPROCESS = """
import argparse, os
parser = argparse.ArgumentParser()
parser.add_argument("--train-test-split-ratio", type=float)
args = parser.parse_args()
rows = open("/opt/ml/processing/input/rows.csv").read().splitlines()
cut = int(len(rows) * (1 - args.train_test_split_ratio))
os.makedirs("/opt/ml/processing/train", exist_ok=True)
open("/opt/ml/processing/train/train.csv", "w").write("\\n".join(rows[:cut]) + "\\n")
open("/opt/ml/processing/test/test.csv", "w").write("\\n".join(rows[cut:]) + "\\n")
print(f"split {len(rows)} rows at {cut}")
"""


@pytest.fixture
def s3_platform(s3_server, monkeypatch):
    """The platform's store on moto's S3 server, and the SDK's S3 client pointed there too."""
    from infra.config import settings
    from infra.storage import get_store

    monkeypatch.setenv("S3_ENDPOINT_URL", s3_server["endpoint_url"])
    monkeypatch.setenv("S3_ACCESS_KEY", s3_server["access_key"])
    monkeypatch.setenv("S3_SECRET_KEY", s3_server["secret_key"])
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_server["endpoint_url"])
    settings.cache_clear()
    get_store.cache_clear()
    yield get_store()
    monkeypatch.undo()
    settings.cache_clear()
    get_store.cache_clear()


@pytest.fixture
def flow_runs(monkeypatch) -> list:
    started: list = []
    monkeypatch.setattr(
        "infra.prefect.start_flow_run",
        lambda deployment, *, parameters: started.append(parameters),
    )
    return started


@pytest.fixture
def session(live_server, user, access_key, s3_platform, flow_runs):
    import sagemaker

    bucket = claim_bucket(user, f"sdk-{uuid.uuid4().hex[:8]}")
    s3_platform.write_bytes(
        f"s3://{bucket}/data/rows.csv", "".join(f"{n},{n * 2}\n" for n in range(10)).encode()
    )
    boto_session = boto3.Session(
        aws_access_key_id=access_key.access_key_id,
        aws_secret_access_key=access_key.secret_access_key,
        region_name="us-east-1",
    )
    return sagemaker.Session(
        boto_session=boto_session,
        sagemaker_client=boto_session.client("sagemaker", endpoint_url=live_server.url),
        default_bucket=bucket,
    )


def run_started_jobs(flow_runs: list) -> None:
    for parameters in flow_runs:
        run_processing_job(parameters["job_id"])


def test_sklearn_processor_runs_a_script_unchanged(
    session, flow_runs, tmp_path, live_server, monkeypatch, capsys
):
    from sagemaker.processing import ProcessingInput, ProcessingOutput
    from sagemaker.sklearn.processing import SKLearnProcessor

    code = tmp_path / "preprocess.py"
    code.write_text(PREPROCESS)
    bucket = session.default_bucket()
    processor = SKLearnProcessor(
        framework_version="1.2-1",
        role=ROLE,
        instance_type="ml.m5.large",
        instance_count=1,
        sagemaker_session=session,
    )
    processor.run(
        code=str(code),
        inputs=[
            ProcessingInput(
                source=f"s3://{bucket}/data/rows.csv", destination="/opt/ml/processing/input"
            )
        ],
        outputs=[
            ProcessingOutput(output_name="train", source="/opt/ml/processing/train"),
            ProcessingOutput(output_name="test", source="/opt/ml/processing/test"),
        ],
        arguments=["--train-test-split-ratio", "0.2"],
        wait=False,
        logs=False,
    )
    run_started_jobs(flow_runs)
    # The SDK prints the job's log from CloudWatch Logs, which it finds by its endpoint variable.
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", live_server.url)
    processor.latest_job.wait(logs=True)
    assert "split 10 rows at 8" in capsys.readouterr().out

    described = processor.latest_job.describe()
    assert described["ProcessingJobStatus"] == "Completed", described["FailureReason"]
    outputs = {
        o["OutputName"]: o["S3Output"]["S3Uri"]
        for o in described["ProcessingOutputConfig"]["Outputs"]
    }
    store = session.boto_session.client("s3")
    train_bucket, train_key = outputs["train"].removeprefix("s3://").split("/", 1)
    train = store.get_object(Bucket=train_bucket, Key=f"{train_key}/train.csv")["Body"].read()
    assert train.decode().splitlines() == [f"{n},{n * 2}" for n in range(8)]
    job = ProcessingJob.objects.get(name=described["ProcessingJobName"])
    assert job.spec["AppSpecification"]["ContainerEntrypoint"][0] == "python3"


def test_script_processor_with_a_framework_image(session, flow_runs, tmp_path):
    from sagemaker import image_uris
    from sagemaker.processing import ProcessingInput, ProcessingOutput, ScriptProcessor

    code = tmp_path / "evaluate.py"
    code.write_text(
        "import json, xgboost, sklearn\n"
        "json.dump({'mse': 0.5, 'xgboost': xgboost.__version__},"
        " open('/opt/ml/processing/evaluation/evaluation.json', 'w'))\n"
    )
    bucket = session.default_bucket()
    processor = ScriptProcessor(
        image_uri=image_uris.retrieve("xgboost", "us-east-1", "1.7-1"),
        command=["python3"],
        role=ROLE,
        instance_type="ml.m5.large",
        instance_count=1,
        sagemaker_session=session,
    )
    processor.run(
        code=str(code),
        inputs=[
            ProcessingInput(source=f"s3://{bucket}/data/", destination="/opt/ml/processing/data")
        ],
        outputs=[
            ProcessingOutput(
                output_name="evaluation",
                source="/opt/ml/processing/evaluation",
                destination=f"s3://{bucket}/evaluation",
            )
        ],
        wait=False,
        logs=False,
    )
    run_started_jobs(flow_runs)
    processor.latest_job.wait(logs=False)

    assert processor.latest_job.describe()["ProcessingJobStatus"] == "Completed"
    body = session.read_s3_file(bucket, "evaluation/evaluation.json")
    assert '"mse": 0.5' in body


def test_framework_processor_installs_requirements_in_the_jobs_own_environment(
    session, flow_runs, tmp_path
):
    from sagemaker.processing import FrameworkProcessor, ProcessingOutput
    from sagemaker.sklearn.estimator import SKLearn

    source = tmp_path / "src"
    source.mkdir()
    (source / "requirements.txt").write_text("tabulate==0.9.0\n")
    (source / "helpers.py").write_text("ROWS = [['a', 1], ['b', 2]]\n")
    (source / "report.py").write_text(
        "import tabulate, helpers\n"
        "open('/opt/ml/processing/report/table.txt', 'w').write(tabulate.tabulate(helpers.ROWS))\n"
    )
    bucket = session.default_bucket()
    processor = FrameworkProcessor(
        estimator_cls=SKLearn,
        framework_version="1.2-1",
        role=ROLE,
        instance_type="ml.m5.large",
        instance_count=1,
        sagemaker_session=session,
    )
    processor.run(
        code="report.py",
        source_dir=str(source),
        outputs=[
            ProcessingOutput(
                output_name="report",
                source="/opt/ml/processing/report",
                destination=f"s3://{bucket}/report",
            )
        ],
        wait=False,
        logs=False,
    )
    run_started_jobs(flow_runs)
    processor.latest_job.wait(logs=False)

    described = processor.latest_job.describe()
    assert described["ProcessingJobStatus"] == "Completed", described["FailureReason"]
    assert "a  1" in session.read_s3_file(bucket, "report/table.txt")
    # Installed for this job only: the platform's environment is as it was.
    with pytest.raises(ImportError):
        import tabulate  # noqa: F401
