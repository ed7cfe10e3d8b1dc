"""CloudWatch Logs as SageMaker clients read job logs: boto3's ``logs`` client against the live
server, and the SDK's own log follower (``sagemaker.logs``)."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from django.utils import timezone
from sagemaker.logs import Position, multi_stream_iter

from console.core.names import account_id_for, arn
from console.endpoints.models import Endpoint, EndpointVariant
from console.training.models import TrainingJob, TrainingLog
from console.transform.models import TransformJob, TransformLog
from infra.serving.instance_log import REDIRECTED, InstanceLogHandler
from tests.infra.serving.conftest import redis_url  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True)
GROUP = "/aws/sagemaker/TrainingJobs"


def logs_client(url: str, key) -> boto3.client:
    return boto3.client(
        "logs",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key.access_key_id,
        aws_secret_access_key=key.secret_access_key,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


@pytest.fixture
def logs(live_server, access_key):
    return logs_client(live_server.url, access_key)


def training_job(owner, name: str, *batches: str) -> TrainingJob:
    started = timezone.now() - timedelta(minutes=5)
    job = TrainingJob.objects.create(
        owner=owner,
        name=name,
        status="InProgress",
        arn=arn("training-job", name, account_id=account_id_for(owner.pk)),
        started_at=started,
    )
    for n, text in enumerate(batches):
        batch = TrainingLog.objects.create(job=job, text=text)
        # Each batch a second apart, as a job writes them.
        TrainingLog.objects.filter(pk=batch.pk).update(created_at=started + timedelta(seconds=n))
    return job


def stream_of(job: TrainingJob) -> str:
    return f"{job.name}/algo-1-{int(job.started_at.timestamp())}"


def test_streams_are_named_as_sagemaker_names_them(logs, user):
    job = training_job(user, "xgb-1", "[0]#011train-rmse:3.2\n")
    training_job(user, "lgbm-2", "starting\n")
    streams = logs.describe_log_streams(
        logGroupName=GROUP, logStreamNamePrefix="xgb-1/", orderBy="LogStreamName"
    )["logStreams"]
    assert [s["logStreamName"] for s in streams] == [stream_of(job)]
    assert streams[0]["firstEventTimestamp"] <= streams[0]["lastEventTimestamp"]
    everything = logs.describe_log_streams(logGroupName=GROUP)["logStreams"]
    assert [s["logStreamName"].split("/")[0] for s in everything] == ["lgbm-2", "xgb-1"]


def test_events_page_forward_and_the_last_token_answers_nothing_new(logs, user):
    lines = [f"line {n}" for n in range(25)]
    job = training_job(
        user,
        "paged",
        "".join(f"{line}\n" for line in lines[:10]),
        *(f"{line}\n" for line in lines[10:]),
    )
    seen, token = [], None
    while True:
        extra = {"nextToken": token} if token else {}
        page = logs.get_log_events(
            logGroupName=GROUP, logStreamName=stream_of(job), startFromHead=True, limit=7, **extra
        )
        seen += [event["message"] for event in page["events"]]
        if not page["events"]:
            assert page["nextForwardToken"] == token  # at the end the token stays put
            break
        token = page["nextForwardToken"]
    assert seen == lines
    tail = logs.get_log_events(logGroupName=GROUP, logStreamName=stream_of(job), limit=3)
    assert [event["message"] for event in tail["events"]] == lines[-3:]
    back = logs.get_log_events(
        logGroupName=GROUP, logStreamName=stream_of(job), nextToken=tail["nextBackwardToken"]
    )
    assert [event["message"] for event in back["events"]] == lines[:-3]


def test_the_sdk_follower_reads_every_line_once_as_the_job_writes_more(logs, user):
    job = training_job(user, "followed", "a\nb\n", "c\n")
    stream = stream_of(job)
    positions = {stream: Position(timestamp=0, skip=0)}

    def follow() -> list[str]:
        read = []
        for _, event in multi_stream_iter(logs, GROUP, [stream], positions):
            read.append(event["message"])
            ts, count = positions[stream]  # the SDK's own bookkeeping (_flush_log_streams)
            if event["timestamp"] == ts:
                positions[stream] = Position(timestamp=ts, skip=count + 1)
            else:
                positions[stream] = Position(timestamp=event["timestamp"], skip=1)
        return read

    assert follow() == ["a", "b", "c"]
    TrainingLog.objects.create(job=job, text="d\ne\n")
    assert follow() == ["d", "e"]
    assert follow() == []


def test_filter_finds_terms_across_streams(logs, user):
    training_job(user, "one", "epoch 1 loss 0.5\n", "done\n")
    training_job(user, "two", "epoch 1 loss 0.7\nerror: disk full\n")
    found = logs.filter_log_events(logGroupName=GROUP, filterPattern="loss")["events"]
    assert sorted(event["message"] for event in found) == ["epoch 1 loss 0.5", "epoch 1 loss 0.7"]
    phrase = logs.filter_log_events(logGroupName=GROUP, filterPattern='"disk full"')["events"]
    assert [event["logStreamName"].split("/")[0] for event in phrase] == ["two"]


def test_a_user_sees_only_their_own_jobs_logs(logs, user, other_user):
    training_job(other_user, "theirs", "secret\n")
    assert logs.describe_log_streams(logGroupName=GROUP)["logStreams"] == []
    assert logs.filter_log_events(logGroupName=GROUP)["events"] == []


def test_unknown_groups_streams_and_operations_answer_logs_errors(logs, user):
    with pytest.raises(ClientError) as raised:
        logs.describe_log_streams(logGroupName="/aws/sagemaker/Nope")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as raised:
        logs.get_log_events(logGroupName=GROUP, logStreamName="nope/algo-1-1")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as raised:
        logs.create_log_group(logGroupName="/mine")
    assert raised.value.response["Error"]["Code"] == "UnknownOperationException"
    assert "not supported by this platform yet" in raised.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as raised:  # past the model's maximum of 10,000
        logs.get_log_events(logGroupName=GROUP, logStreamName="x/algo-1-1", limit=10_001)
    assert raised.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "'limit'" in raised.value.response["Error"]["Message"]


def test_a_request_signed_for_another_service_is_refused(live_server, access_key, user):
    client = logs_client(live_server.url, access_key)
    client._request_signer._signing_name = "sagemaker"  # a client scoped to the wrong service
    with pytest.raises(ClientError) as raised:
        client.describe_log_groups()
    assert raised.value.response["Error"]["Code"] == "InvalidSignatureException"


def test_a_transform_jobs_log_is_one_stream_named_for_its_instance(logs, user):
    started = timezone.now() - timedelta(minutes=1)
    job = TransformJob.objects.create(
        owner=user,
        name="scores",
        status="Completed",
        arn=arn("transform-job", "scores", account_id=account_id_for(user.pk)),
        started_at=started,
    )
    TransformLog.objects.create(job=job, text="Transform job scores: 1 input objects\n")
    TransformLog.objects.create(job=job, text="Transform job Completed: 1 of 1 objects\n")
    group = "/aws/sagemaker/TransformJobs"

    [stream] = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix="scores/")[
        "logStreams"
    ]
    assert re.fullmatch(
        rf"scores/i-[0-9a-f]{{17}}-{int(started.timestamp())}", stream["logStreamName"]
    )
    events = logs.get_log_events(
        logGroupName=group, logStreamName=stream["logStreamName"], startFromHead=True
    )["events"]
    assert [e["message"] for e in events] == [
        "Transform job scores: 1 input objects",
        "Transform job Completed: 1 of 1 objects",
    ]


@pytest.fixture
def serving(redis_url, monkeypatch):  # noqa: F811
    import redis

    from infra.config import settings

    client = redis.Redis.from_url(redis_url)
    client.flushall()
    monkeypatch.setenv("REDIS_URL", redis_url)
    settings.cache_clear()
    yield client
    settings.cache_clear()


def endpoint_instance_logged(client, owner, endpoint: str, instance: str, *lines: str) -> None:
    row = Endpoint.objects.create(
        owner=owner,
        name=endpoint,
        arn=arn("endpoint", endpoint, account_id=account_id_for(owner.pk)),
        status="InService",
        config_name="config",
    )
    variant = EndpointVariant.objects.create(
        endpoint=row,
        name="AllTraffic",
        deployment_id=f"{owner.pk}-{endpoint}-1",
        model_name="m",
        state=EndpointVariant.ACTIVE,
    )
    handler = InstanceLogHandler(
        client, variant_id=variant.deployment_id, instance=f"{variant.deployment_id}.{instance}"
    )
    for line in lines:
        handler.emit(logging.LogRecord(REDIRECTED, logging.WARNING, "", 0, line, None, None))
    handler.close()


def test_an_endpoints_group_has_a_stream_per_instance_of_each_variant(logs, user, serving):
    endpoint_instance_logged(serving, user, "churn", "3f9a2c", "model_fn: loaded", "scaling 3")
    group = "/aws/sagemaker/Endpoints/churn"

    names = [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]]
    assert names == [
        group,
        "/aws/sagemaker/ProcessingJobs",
        "/aws/sagemaker/TrainingJobs",
        "/aws/sagemaker/TransformJobs",
    ]
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert [s["logStreamName"] for s in streams] == ["AllTraffic/i-3f9a2c"]
    events = logs.get_log_events(
        logGroupName=group, logStreamName="AllTraffic/i-3f9a2c", startFromHead=True
    )["events"]
    assert [e["message"] for e in events] == ["model_fn: loaded", "scaling 3"]
    found = logs.filter_log_events(logGroupName=group, filterPattern="scaling")["events"]
    assert [(e["logStreamName"], e["message"]) for e in found] == [
        ("AllTraffic/i-3f9a2c", "scaling 3")
    ]


def test_another_users_endpoint_has_no_log_group_for_the_caller(logs, user, other_user, serving):
    endpoint_instance_logged(serving, other_user, "theirs", "abc", "secret")
    for group in ("/aws/sagemaker/Endpoints/theirs", "/aws/sagemaker/Endpoints/none"):
        with pytest.raises(ClientError) as raised:
            logs.describe_log_streams(logGroupName=group)
        assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    names = [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]]
    assert not any("theirs" in name for name in names)


def test_a_job_has_its_stream_once_it_starts_and_the_name_stays(logs, user):
    job = training_job(user, "queued")
    TrainingJob.objects.filter(pk=job.pk).update(started_at=None)
    assert logs.describe_log_streams(logGroupName=GROUP)["logStreams"] == []
    started = timezone.now() + timedelta(seconds=5)  # not the second it was created in
    TrainingJob.objects.filter(pk=job.pk).update(started_at=started)
    [stream] = logs.describe_log_streams(logGroupName=GROUP)["logStreams"]
    assert stream["logStreamName"] == f"queued/algo-1-{int(started.timestamp())}"
    TrainingJob.objects.filter(pk=job.pk).update(status="Completed")
    assert [
        s["logStreamName"] for s in logs.describe_log_streams(logGroupName=GROUP)["logStreams"]
    ] == [stream["logStreamName"]]
