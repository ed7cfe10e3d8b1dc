"""The platform on a real multi-process cluster, as it runs when it outgrows one machine.

Dask is a ``dask scheduler`` with two ``dask worker`` processes (``DASK_SCHEDULER_ADDRESS``),
storage is an S3 server (moto's, ``S3_ENDPOINT_URL``), and one endpoint instance is a Celery
worker started as the README says to start one on another host: each "host" has its own
``DATA_DIR`` and reaches the others only through the network. On it, a 2-instance LightGBM job
trains on both workers, a transform with InstanceCount=2 survives one of the workers being killed
mid-job with every ``.out`` exact, and the remote instance answers invocations.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import WaiterError
from distributed import Client

from tests.conftest import FEATURES, free_port
from tests.datasets import feature_rows, oracle
from tests.stack import REPO, STACK_START_S, WAIT, Stack, running_stack, training_csv

pytestmark = pytest.mark.e2e
ROLE = "arn:aws:iam::000000000000:role/sagebrush"
BIN = Path(sys.executable).parent
# Settings a process on another host would not inherit from this one.
HOST_SETTINGS = (
    "DATA_DIR",
    "DATABASE_URL",
    "REDIS_URL",
    "PREFECT_API_URL",
    "S3_ENDPOINT_URL",
    "S3_ACCESS_KEY",
    "S3_SECRET_KEY",
    "DASK_SCHEDULER_ADDRESS",
    "DJANGO_SETTINGS_MODULE",
)


def other_host(root: Path, name: str, **settings: str) -> dict[str, str]:
    """The environment of a process on another machine: its own DATA_DIR, only ``settings``."""
    env = {key: value for key, value in os.environ.items() if key not in HOST_SETTINGS}
    data_dir = root / name
    data_dir.mkdir(parents=True, exist_ok=True)
    return {**env, "DATA_DIR": str(data_dir), "PYTHONPATH": str(REPO), **settings}


def start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as output:
        return subprocess.Popen(
            argv,
            cwd=env["DATA_DIR"],  # not the checkout: the code comes from PYTHONPATH, as installed
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


class Cluster:
    """The scheduler and workers (by name), the S3 server's settings, and the stack over them."""

    def __init__(self, root: Path, s3: dict[str, str]) -> None:
        self.root = root
        self.s3 = {
            "S3_ENDPOINT_URL": s3["endpoint_url"],
            "S3_ACCESS_KEY": s3["access_key"],
            "S3_SECRET_KEY": s3["secret_key"],
        }
        self.address = f"tcp://127.0.0.1:{free_port()}"
        self.processes: dict[str, subprocess.Popen] = {}
        self.stack: Stack | None = None

    def log(self, name: str) -> str:
        return (self.root / f"{name}.log").read_text(errors="replace")

    def start(self, name: str, argv: list[str], **settings: str) -> subprocess.Popen:
        env = other_host(self.root, name, **settings)
        self.processes[name] = start(argv, env, self.root / f"{name}.log")
        return self.processes[name]

    def start_dask(self) -> None:
        port = self.address.rsplit(":", 1)[1]
        dask = str(BIN / "dask")
        self.start("scheduler", [dask, "scheduler", "--host", "127.0.0.1", "--port", port,
                                 "--no-dashboard"])  # fmt: skip
        for name in ("worker-1", "worker-2"):
            self.start_worker(name)
        with Client(self.address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)

    def start_worker(self, name: str) -> None:
        # The workers get no S3 settings: a job sends them the store it reads and writes.
        self.start(name, [str(BIN / "dask"), "worker", self.address, "--name", name,
                          "--nthreads", "1", "--no-dashboard",
                          "--local-directory", str(self.root / name)],
                   OMP_NUM_THREADS="1")  # fmt: skip

    def kill_worker_running(self, client: Client, prefix: str, *, timeout: float) -> bool:
        """Kill -9 (nanny and worker: the host is gone) the first worker seen running a task
        whose key starts with ``prefix``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for address, keys in client.processing().items():
                if any(str(key).startswith(prefix) for key in keys):
                    name = client.scheduler_info(n_workers=-1)["workers"][address]["name"]
                    os.killpg(self.processes[name].pid, signal.SIGKILL)
                    return True
            time.sleep(0.02)
        return False

    def close(self) -> None:
        for process in reversed(self.processes.values()):
            stop(process)


@pytest.fixture(scope="module")
def cluster(s3_server) -> Iterator[Cluster]:
    root = Path(tempfile.mkdtemp(prefix="sagebrush-e2e-cluster-"))
    cluster = Cluster(root, s3_server)
    try:
        cluster.start_dask()
        settings = {**cluster.s3, "DASK_SCHEDULER_ADDRESS": cluster.address}
        with running_stack(env=settings) as stack:
            cluster.stack = stack
            yield cluster
    finally:
        cluster.close()
        subprocess.run(["rm", "-rf", str(root)], check=False)


@pytest.fixture(scope="module")
def s3(s3_server):
    from infra.storage.s3 import S3ObjectStore

    return S3ObjectStore(**s3_server)


@pytest.fixture(scope="module")
def bucket(cluster, s3) -> str:
    """Two train objects (one per instance: ShardedByS3Key) and a validation object, in S3."""
    name = f"cluster-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(name)
    s3.write_bytes(f"s3://{name}/train/a.csv", training_csv(600, seed=1))
    s3.write_bytes(f"s3://{name}/train/b.csv", training_csv(600, seed=2))
    s3.write_bytes(f"s3://{name}/validation/v.csv", training_csv(300, seed=3))
    return name


def job_log(stack: Stack, group: str, job: str) -> str:
    logs = stack.client("logs")
    streams = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix=f"{job}/")
    return "\n".join(
        event["message"]
        for stream in streams["logStreams"]
        for event in logs.get_log_events(
            logGroupName=group, logStreamName=stream["logStreamName"], startFromHead=True
        )["events"]
    )


@pytest.fixture(scope="module")
def model(cluster, bucket, s3, tmp_path_factory):
    """A LightGBM model trained on two instances, registered as ``cluster-lgbm``; (the job's
    description, the model loaded here: the oracle its answers must match)."""
    from algorithms.loading import load_containers

    sm = cluster.stack.sagemaker
    sharded = {"S3DataType": "S3Prefix", "S3DataDistributionType": "ShardedByS3Key"}
    sm.create_training_job(
        TrainingJobName="cluster-train",
        RoleArn=ROLE,
        AlgorithmSpecification={"TrainingImage": "lightgbm", "TrainingInputMode": "File"},
        HyperParameters={"num_boost_round": "20", "objective": "binary"},
        InputDataConfig=[
            {"ChannelName": "train", "ContentType": "text/csv", "DataSource": {
                "S3DataSource": {**sharded, "S3Uri": f"s3://{bucket}/train/"}}},
            {"ChannelName": "validation", "ContentType": "text/csv", "DataSource": {
                "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/validation/"}}},
        ],
        OutputDataConfig={"S3OutputPath": f"s3://{bucket}/models"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 2, "VolumeSizeInGB": 5},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
    )  # fmt: skip
    sm.get_waiter("training_job_completed_or_stopped").wait(
        TrainingJobName="cluster-train", WaiterConfig=WAIT
    )
    job = sm.describe_training_job(TrainingJobName="cluster-train")
    artifact = job["ModelArtifacts"]["S3ModelArtifacts"]
    if job["TrainingJobStatus"] == "Completed":
        sm.create_model(
            ModelName="cluster-lgbm",
            ExecutionRoleArn=ROLE,
            PrimaryContainer={"Image": "lightgbm", "ModelDataUrl": artifact},
        )
    containers = [{"Image": "lightgbm", "ModelDataUrl": artifact}] if artifact else []
    loaded = (
        load_containers(containers, s3, work_dir=tmp_path_factory.mktemp("model"))
        if containers
        else None
    )
    return job, loaded


@pytest.mark.timeout(STACK_START_S + 300)
def test_a_two_instance_lightgbm_job_trains_on_both_dask_workers(cluster, model):
    job, loaded = model
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert job["ModelArtifacts"]["S3ModelArtifacts"].startswith("s3://cluster-")
    log = job_log(cluster.stack, "/aws/sagemaker/TrainingJobs", "cluster-train")
    assert f"Training on 2 Dask workers ({cluster.address})" in log, log
    assert "Reading 2 shards on 2 Dask workers" in log, log
    metrics = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
    assert metrics["validation:binary_logloss"] < 0.4, metrics  # it learnt x1 > x3
    assert loaded is not None


@pytest.mark.timeout(STACK_START_S + 300)
def test_a_transform_on_two_workers_survives_one_killed_mid_job(cluster, model, bucket, s3):
    _, loaded = model
    objects = {f"part-{n}.csv": feature_rows(400, FEATURES, seed=10 + n) for n in range(6)}
    for path, records in objects.items():
        s3.write_bytes(f"s3://{bucket}/score/{path}", b"\n".join(records) + b"\n")
    sm = cluster.stack.sagemaker
    sm.create_transform_job(
        TransformJobName="cluster-transform",
        ModelName="cluster-lgbm",
        BatchStrategy="SingleRecord",  # one call per line: each object takes a moment
        TransformInput={
            "DataSource": {
                "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/score/"}
            },
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        TransformOutput={"S3OutputPath": f"s3://{bucket}/scored/", "AssembleWith": "Line"},
        TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 2},
    )
    with Client(cluster.address, timeout=30) as client:
        killed = cluster.kill_worker_running(client, "sagebrush-range-", timeout=120)
    assert killed, "no Dask worker was seen running a range of the job"

    try:
        sm.get_waiter("transform_job_completed_or_stopped").wait(
            TransformJobName="cluster-transform", WaiterConfig=WAIT
        )
    except WaiterError:  # what the job and the flows were doing, for whoever reads the failure
        job = sm.describe_transform_job(TransformJobName="cluster-transform")
        tails = "\n".join(f"--- {name}:\n{cluster.log(name)[-3000:]}" for name in cluster.processes)
        flows = cluster.stack.log("flows")[-6000:]
        raise AssertionError(f"not ended: {job}\n--- flows:\n{flows}\n{tails}") from None
    job = sm.describe_transform_job(TransformJobName="cluster-transform")
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    prefix = f"s3://{bucket}/scored/"
    written = {info.uri[len(prefix) :]: s3.read_bytes(info.uri) for info in s3.list(prefix)}
    assert written == {f"{path}.out": oracle(loaded, rows) for path, rows in objects.items()}


@pytest.mark.timeout(STACK_START_S + 240)
def test_an_endpoint_is_served_by_an_instance_on_another_host(cluster, model):
    _, loaded = model
    stack = cluster.stack
    sm, runtime = stack.sagemaker, stack.runtime
    sm.create_endpoint_config(
        EndpointConfigName="cluster-ep",
        ProductionVariants=[{"VariantName": "only", "ModelName": "cluster-lgbm",
                             "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
    )  # fmt: skip
    sm.create_endpoint(EndpointName="cluster-ep", EndpointConfigName="cluster-ep")
    sm.get_waiter("endpoint_in_service").wait(
        EndpointName="cluster-ep", WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    [variant] = stack.rest("GET", "/api/v1/endpoints/cluster-ep/")[1]["variants"]
    deployment = variant["deployment_id"]

    # As the README says for another host: Redis and S3 reachable, the variant's id.
    redis_url = f"redis://127.0.0.1:{stack.env['SAGEBRUSH_REDIS_PORT']}/0"
    remote = cluster.start(
        "remote-instance",
        [str(BIN / "celery"), "-A", "infra.serving.worker", "worker", "--pool", "solo",
         "-Q", f"sb.serving.{deployment}"],
        REDIS_URL=redis_url,
        SAGEBRUSH_SERVING_VARIANT=deployment,
        SAGEBRUSH_SERVING_INSTANCE="remote-1",
        **cluster.s3,
    )  # fmt: skip

    def remote_health() -> dict | None:
        [variant] = stack.rest("GET", "/api/v1/endpoints/cluster-ep/")[1]["variants"]
        return next((i for i in variant["instances"] if i["name"] == "remote-1"), None)

    deadline = time.monotonic() + 90
    while (health := remote_health()) is None or health["state"] != "InService":
        assert remote.poll() is None, cluster.log("remote-instance")
        assert time.monotonic() < deadline, (health, cluster.log("remote-instance"))
        time.sleep(0.5)
    assert health["pid"] == remote.pid

    rows = feature_rows(20, FEATURES, seed=99)
    for row in rows:
        answer = runtime.invoke_endpoint(
            EndpointName="cluster-ep", Body=row, ContentType="text/csv", Accept="text/csv"
        )["Body"].read()
        assert float(answer) == float(oracle(loaded, [row]))
    # Its heartbeat (a second apart) counts what it answered: some of the calls, not all.
    deadline = time.monotonic() + 5
    while (served := remote_health()["served"]) == 0 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert 0 < served <= len(rows), served
    stop(remote)
