"""A Dask worker killed (SIGKILL, no clean-up) while a two-instance job trains on it: the job ends
``Failed`` in seconds, its FailureReason naming the lost instance, with no model published and its
scratch removed; the other instance is told to end rather than left waiting for the lost one.

The coordination part first, on the suite's two-worker LocalCluster (no stack): a worker that
dies before reporting its iteration, and LightGBM training across two workers, one killed.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import time
import uuid

import psutil
import pytest
from botocore.exceptions import WaiterError

from algorithms import parse_hyperparameters, resolve_image
from algorithms.coordination import (
    CONTINUE,
    Coordinator,
    InstanceLost,
    Report,
    run_coordinated,
)
from algorithms.distributed import train_distributed
from algorithms.shards import ChannelShard
from tests.fakes import RecordingReporter
from tests.faults.conftest import dask_workers, report, wait_until
from tests.faults.instances import report_iterations
from tests.stack import STACK_START_S, channels, training_bucket, training_csv

ROLE = "arn:aws:iam::000000000000:role/sagebrush"
LOST = re.compile(
    r"(algo-\d) was lost: its worker died \((tcp://[\d.]+:(\d+)) left the Dask cluster\)"
)


@pytest.fixture
def two_workers(dask_client):
    """The suite's two workers by address, in instance order; both there again afterwards (the
    killed one's nanny starts another), so the next test finds the cluster whole."""
    workers = sorted(dask_client.scheduler_info(n_workers=-1)["workers"])
    assert len(workers) == 2
    yield workers
    dask_client.wait_for_workers(2, timeout=60)


class _GoOn(Coordinator):
    def decide(self, iteration: int, reports: list[Report]) -> str:
        return CONTINUE


def test_a_worker_lost_before_its_report_ends_the_training_naming_its_instance(
    dask_client, two_workers
) -> None:
    """algo-1 reports iteration 3 and waits; algo-2's worker dies first. Without the scheduler's
    word on the lost worker, algo-1 would wait for the decision for DECISION_TIMEOUT_S."""
    token = f"test-lost-{uuid.uuid4().hex}"

    def fit() -> list[None]:
        futures = [
            dask_client.submit(
                report_iterations,
                token,
                die_at=None if number == 1 else 3,
                workers=[worker],
                pure=False,
            )
            for number, worker in enumerate(two_workers, start=1)
        ]
        return dask_client.gather(futures)

    with pytest.raises(InstanceLost) as caught:
        run_coordinated(fit, _GoOn(dask_client), token=token, workers=two_workers)
    assert LOST.fullmatch(str(caught.value)).group(1, 2) == ("algo-2", two_workers[1])


class _KillAtIteration(RecordingReporter):
    """Kills ``victim`` (a worker process) once the workers have reported ``iteration``."""

    def __init__(self, victim: int, iteration: int) -> None:
        super().__init__()
        self.victim, self.iteration = victim, iteration

    def metric(self, name: str, value: float, *, step: int | None = None) -> None:
        super().metric(name, value, step=step)
        if step == self.iteration and self.victim:
            os.kill(self.victim, signal.SIGKILL)
            self.victim = 0


def test_lightgbm_on_two_workers_names_the_instance_whose_worker_died(
    tmp_path, dask_client, two_workers, local_store
) -> None:
    """The other worker usually fails first here, in LightGBM's collective call ("Socket recv
    error"): the job's error is still the lost instance, not that."""
    bucket = f"test-{uuid.uuid4().hex[:12]}"
    local_store.create_bucket(bucket)
    shards = []
    for index in range(2):
        uri = f"s3://{bucket}/train/part-{index}"
        local_store.write_bytes(uri, training_csv(200, seed=index))
        shards.append({"train": ChannelShard("train", (uri,), "text/csv")})
    pids = dask_client.run(os.getpid)
    algorithm = resolve_image("lightgbm")
    hyperparameters = {"objective": "binary", "num_boost_round": "10000"}
    with pytest.raises(InstanceLost) as caught:
        train_distributed(
            algorithm,
            shards=shards,
            hyperparameters=parse_hyperparameters(algorithm, hyperparameters),
            model_dir=tmp_path / "model",
            reporter=_KillAtIteration(pids[two_workers[0]], iteration=5),
            client=dask_client,
            store=local_store,
        )
    assert LOST.fullmatch(str(caught.value)).group(1, 2) == ("algo-1", two_workers[0])
    assert not (tmp_path / "model").exists()


@pytest.mark.e2e
@pytest.mark.timeout(STACK_START_S + 240)
def test_a_killed_dask_worker_fails_a_two_instance_training_job_naming_it(stack) -> None:
    bucket = training_bucket(stack, "faults-train", train=400, validation=100, seed=60)
    name = f"faults-train-{bucket[-8:]}"
    scratch = stack.data_dir / "work" / "training"
    scratch_before = set(scratch.iterdir()) if scratch.is_dir() else set()
    sm = stack.sagemaker
    started = time.monotonic()
    sm.create_training_job(
        TrainingJobName=name,
        RoleArn=ROLE,
        AlgorithmSpecification={"TrainingImage": "lightgbm", "TrainingInputMode": "File"},
        # Far more rounds than the test waits for: still training when a worker is killed.
        HyperParameters={"objective": "binary", "num_boost_round": "100000"},
        InputDataConfig=channels(bucket),
        OutputDataConfig={"S3OutputPath": f"s3://{bucket}/models"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 2, "VolumeSizeInGB": 1},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
    )
    cloudwatch = stack.client("cloudwatch")
    dimensions = [{"Name": "TrainingJobName", "Value": name}]

    def training_workers() -> list[psutil.Process]:
        """The job's two Dask workers, once it has reported an iteration's metrics."""
        metrics = cloudwatch.list_metrics(
            Namespace="/aws/sagemaker/TrainingJobs", Dimensions=dimensions
        )["Metrics"]
        workers = dask_workers(stack.data_dir) if metrics else []
        return workers if len(workers) == 2 else []

    workers = wait_until(training_workers, timeout=120, what="the job training on two workers")
    victim = workers[0]
    ports = {c.laddr.port for c in victim.net_connections("tcp") if c.status == psutil.CONN_LISTEN}
    os.kill(victim.pid, signal.SIGKILL)
    killed = time.monotonic()

    with contextlib.suppress(WaiterError):  # the waiter raises on Failed
        sm.get_waiter("training_job_completed_or_stopped").wait(
            TrainingJobName=name, WaiterConfig={"Delay": 0.5, "MaxAttempts": 240}
        )
    ended = time.monotonic()
    job = sm.describe_training_job(TrainingJobName=name)
    assert job["TrainingJobStatus"] == "Failed", job.get("FailureReason")
    lost = LOST.search(job["FailureReason"])
    assert lost, job["FailureReason"]
    assert int(lost.group(3)) in ports, (job["FailureReason"], ports)  # the killed one's name
    assert not list(stack.store.list(f"s3://{bucket}/models/"))  # no partial model
    assert set(scratch.iterdir()) <= scratch_before  # its scratch folder removed
    report(
        "training-worker-killed",
        instance=lost.group(1),
        job_end_after_kill_s=round(ended - killed, 1),
        job_total_s=round(ended - started, 1),
    )
