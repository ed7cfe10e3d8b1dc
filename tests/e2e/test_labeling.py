"""Labeling as Ground Truth, from boto3 alone against the running stack: a work team, a
text-classification job with automated labeling over 1,200 items, a simulated annotator
answering through the REST work queue, the job Completed with its counters adding up, its rounds'
training and transform jobs listed and naming it, the output manifest in Ground Truth's shape,
and a training job reading that manifest as an AugmentedManifestFile channel.

The annotator is a platform user in the group the work team names, made with ``manage.py``
(users and groups have no SageMaker API), with an access key of their own for the REST API.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid

import numpy as np
import pytest

from tests.stack import STACK_START_S, WAIT, _manage

pytestmark = pytest.mark.e2e

ITEMS = 1200
TOPICS = {
    "sport": "goal match team striker league coach season score stadium referee",
    "cooking": "recipe oven flour sauce garlic simmer bake dough spice kitchen",
    "travel": "flight hotel beach passport museum island train luggage tour city",
}
VOCABULARY = [word for words in TOPICS.values() for word in words.split()]
FILLER = ["the", "a", "of", "and", "really", "very", "quite", "this", "that", "was", "it"]
ALGORITHM_ARN = (
    "arn:aws:sagemaker:us-east-1:027400017018:labeling-job-algorithm-specification/"
    "text-classification"
)


def reviews(count: int, seed: int = 0) -> tuple[list[dict], list[int]]:
    """Manifest lines of short texts on one of three topics (mostly the topic's words, one of
    another's, filler), each with ``counts``: the text's count of each topic word as a CSV row,
    the numbers a built-in trains on."""
    rng = np.random.default_rng(seed)
    words = [topic.split() for topic in TOPICS.values()]
    lines, truth = [], []
    for _ in range(count):
        label, other = int(rng.integers(len(TOPICS))), int(rng.integers(len(TOPICS)))
        chosen = [*rng.choice(words[label], 3), *rng.choice(words[other], 1)]
        chosen += list(rng.choice(FILLER, 4))
        rng.shuffle(chosen)
        text = " ".join(chosen)
        counts = ",".join(str(chosen.count(word)) for word in VOCABULARY)
        lines.append({"source": text, "counts": counts})
        truth.append(label)
    return lines, truth


def annotator(stack, name: str, group: str) -> tuple[str, str]:
    """A platform user in ``group``, and their access key."""
    deadline = time.monotonic() + 60
    _manage(
        stack.env,
        "shell",
        "-c",
        "from django.contrib.auth.models import Group, User;"
        f"user = User.objects.create_user({name!r}, password='annotator horse 7');"
        f"user.groups.add(Group.objects.get_or_create(name={group!r})[0])",
        deadline=deadline,
    )
    created = _manage(stack.env, "createaccesskey", name, deadline=deadline)
    keys = dict(line.split(": ", 1) for line in created.splitlines())
    return keys["AccessKeyId"], keys["SecretAccessKey"]


def rest(stack, key: tuple[str, str], path: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        stack.url + path,
        data=json.dumps(body).encode() if body is not None else b"",
        method="POST",
        headers={"Authorization": f"Bearer {key[0]}:{key[1]}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
            return response.status, json.loads(text) if text else {}
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


@pytest.mark.timeout(STACK_START_S + 300)
def test_a_labeling_job_with_automated_labeling_feeds_a_training_job(stack):
    sm, store = stack.sagemaker, stack.store
    bucket = f"topics-{uuid.uuid4().hex[:8]}"
    store.create_bucket(bucket)
    lines, truth = reviews(ITEMS)
    store.write_bytes(
        f"s3://{bucket}/in/reviews.manifest",
        "".join(json.dumps(line) + "\n" for line in lines).encode(),
    )
    categories = {"document-version": "2018-11-28", "labels": [{"label": t} for t in TOPICS]}
    store.write_bytes(f"s3://{bucket}/in/topics.json", json.dumps(categories).encode())
    key = annotator(stack, "ann", "topic-annotators")

    team = sm.create_workteam(
        WorkteamName="topic-team",
        Description="Topic annotators",
        MemberDefinitions=[{"OidcMemberDefinition": {"Groups": ["topic-annotators"]}}],
    )["WorkteamArn"]
    job_arn = sm.create_labeling_job(
        LabelingJobName="topics",
        LabelAttributeName="topic",
        InputConfig={
            "DataSource": {"S3DataSource": {"ManifestS3Uri": f"s3://{bucket}/in/reviews.manifest"}}
        },
        OutputConfig={"S3OutputPath": f"s3://{bucket}/out"},
        RoleArn="arn:aws:iam::000000000000:role/labeling",
        LabelCategoryConfigS3Uri=f"s3://{bucket}/in/topics.json",
        HumanTaskConfig={
            "WorkteamArn": team,
            "UiConfig": {"UiTemplateS3Uri": f"s3://{bucket}/in/template.liquid"},
            "PreHumanTaskLambdaArn": (
                "arn:aws:lambda:us-east-1:432418664414:function:PRE-TextMultiClass"
            ),
            "TaskTitle": "Topic",
            "TaskDescription": "What is the text about?",
            "NumberOfHumanWorkersPerDataObject": 1,
            "TaskTimeLimitInSeconds": 300,
            "MaxConcurrentTaskCount": 100,
            "AnnotationConsolidationConfig": {
                "AnnotationConsolidationLambdaArn": (
                    "arn:aws:lambda:us-east-1:432418664414:function:ACS-TextMultiClass"
                )
            },
        },
        LabelingJobAlgorithmsConfig={"LabelingJobAlgorithmSpecificationArn": ALGORITHM_ARN},
    )["LabelingJobArn"]

    # The annotator answers every task the queue hands them until the job ends.
    answered, deadline = 0, time.monotonic() + 240
    while (described := sm.describe_labeling_job(LabelingJobName="topics"))[
        "LabelingJobStatus"
    ] in ("Initializing", "InProgress"):
        assert time.monotonic() < deadline, described
        status, task = rest(stack, key, "/api/v1/labeling-jobs/topics/tasks/next/")
        if status == 204:
            time.sleep(0.5)
            continue
        assert status == 200, task
        status, _ = rest(
            stack,
            key,
            f"/api/v1/labeling-jobs/topics/tasks/{task['item']}/answer/",
            {"label": truth[task["item"]]},
        )
        assert status == 200
        answered += 1

    assert described["LabelingJobStatus"] == "Completed", described.get("FailureReason")
    counters = described["LabelCounters"]
    assert counters["HumanLabeled"] == answered
    assert counters["TotalLabeled"] == counters["HumanLabeled"] + counters["MachineLabeled"]
    assert counters["TotalLabeled"] + counters["Unlabeled"] == ITEMS
    assert counters["FailedNonRetryableError"] == 0
    assert counters["MachineLabeled"] >= ITEMS // 2  # the machine labeled most of them

    # Each round's training and transform jobs are the platform's own, listed and naming the job.
    trainings = [
        s["TrainingJobName"]
        for s in sm.list_training_jobs(NameContains="topics-round-", MaxResults=100)[
            "TrainingJobSummaries"
        ]
    ]
    transforms = [
        s["TransformJobName"]
        for s in sm.list_transform_jobs(NameContains="topics-round-", MaxResults=100)[
            "TransformJobSummaries"
        ]
    ]
    assert trainings and sorted(transforms) == sorted(trainings)
    for name in trainings:
        training = sm.describe_training_job(TrainingJobName=name)
        assert (training["TrainingJobStatus"], training["LabelingJobArn"]) == ("Completed", job_arn)
        assert training["ModelArtifacts"]["S3ModelArtifacts"].startswith(
            f"s3://{bucket}/out/topics/training/"
        )
        transform = sm.describe_transform_job(TransformJobName=name)
        assert (transform["TransformJobStatus"], transform["LabelingJobArn"]) == (
            "Completed",
            job_arn,
        )
    final = described["LabelingJobOutput"]["FinalActiveLearningModelArn"]
    assert sm.describe_model(ModelName=final.rsplit("/", 1)[1])["ModelArn"] == final

    # The output manifest: every input line, its label and Ground Truth's metadata.
    output_uri = described["LabelingJobOutput"]["OutputDatasetS3Uri"]
    assert output_uri == f"s3://{bucket}/out/topics/manifests/output/output.manifest"
    output = [json.loads(line) for line in store.read_bytes(output_uri).splitlines()]
    assert [line["source"] for line in output] == [line["source"] for line in lines]
    metadata = [line["topic-metadata"] for line in output]
    assert all(
        set(m)
        == {"class-name", "confidence", "type", "job-name", "human-annotated", "creation-date"}
        for m in metadata
    )
    assert {m["type"] for m in metadata} == {"groundtruth/text-classification"}
    assert {m["job-name"] for m in metadata} == {"labeling-job/topics"}
    assert sum(m["human-annotated"] == "no" for m in metadata) == counters["MachineLabeled"]
    classes = [line["topic-metadata"]["class-name"] for line in output]
    assert classes == [list(TOPICS)[int(line["topic"])] for line in output]
    right = sum(int(line["topic"]) == label for line, label in zip(output, truth, strict=True))
    assert right >= 0.95 * ITEMS

    # A training job reads the output manifest directly: the counts and the label.
    sm.create_training_job(
        TrainingJobName="topics-knn",
        AlgorithmSpecification={"TrainingImage": "knn", "TrainingInputMode": "File"},
        RoleArn="arn:aws:iam::000000000000:role/training",
        HyperParameters={
            "k": "5",
            "predictor_type": "classifier",
            "sample_size": str(ITEMS),
            "feature_dim": str(len(VOCABULARY)),
        },
        InputDataConfig=[
            {
                "ChannelName": "train",
                "ContentType": "text/csv",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "AugmentedManifestFile",
                        "S3Uri": output_uri,
                        "AttributeNames": ["counts", "topic"],
                    }
                },
            }
        ],
        OutputDataConfig={"S3OutputPath": f"s3://{bucket}/models"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
    )
    sm.get_waiter("training_job_completed_or_stopped").wait(
        TrainingJobName="topics-knn", WaiterConfig=WAIT
    )
    trained = sm.describe_training_job(TrainingJobName="topics-knn")
    assert trained["TrainingJobStatus"] == "Completed", trained.get("FailureReason")
