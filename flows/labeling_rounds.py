"""A round of automated labeling: what its model says (:class:`RoundModel`), and the platform's
way to get it (:class:`PlatformRounds`): a training job of the ``auto-labeling`` built-in on the
human labels, a model of its artifact and a transform job over the unlabeled items, their data
under the labeling job's output prefix. The loop that decides with it is :mod:`flows.labeling`.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from algorithms.builtin.auto_labeling import HELD_OUT_FILE
from console.core.errors import InvalidState, ValidationError
from console.labeling import selectors
from console.labeling.manifests import job_prefix
from console.registry.services import model_create
from console.training.selectors import training_job_by_id
from console.training.services import training_job_create, training_job_stop
from console.transform.selectors import transform_job_by_id
from console.transform.services import transform_job_create, transform_job_stop
from infra.storage import get_store


@dataclass(frozen=True)
class RoundModel:
    """What one round's model says: each pool item's probabilities, and the held-out
    probabilities of the human-labeled items (None: too few to hold any out) with their labels."""

    pool_probabilities: np.ndarray
    held_out: np.ndarray | None
    held_out_labels: np.ndarray
    model_arn: str = ""
    training_job_name: str = ""
    transform_job_name: str = ""


class Rounds(Protocol):
    """Trains a round's model on the human labels ``[(item id, source, label)]`` and applies it
    to the pool ``[(item id, source)]``, its features fitted on every item: those and the
    ``machine_labeled`` ones ``[(item id, source)]``. Returns None when the job was asked to
    stop meanwhile."""

    def __call__(
        self,
        number: int,
        labeled: list[tuple[int, str, int]],
        pool: list[tuple[int, str]],
        machine_labeled: list[tuple[int, str]],
    ) -> RoundModel | None: ...


class ChildJobFailed(Exception):
    """A training or transform job of automated labeling did not complete."""


class PlatformRounds:
    """:class:`Rounds` by the platform's jobs: each round's model trained by a training job (the
    ``auto-labeling`` built-in) on the human labels, registered as a Model, and applied to the
    pool by a transform job; the jobs name the labeling job (``LabelingJobArn``). Data lies under
    the job's output prefix as Ground Truth lays it out: ``training/`` (each round's labels, and
    the models), ``inference/`` (each round's pool and its predictions) and ``activelearning/``
    (each round's decisions). ``stop`` says whether the labeling job was asked to stop."""

    def __init__(
        self,
        job_id: int,
        *,
        stop: Callable[[], bool],
        poll_seconds: float,
        run_training: Callable[[int], object] | None = None,
        run_transform: Callable[[int], object] | None = None,
    ) -> None:
        self.job = selectors.labeling_job_by_id(job_id=job_id)
        self.run_training = run_training
        self.run_transform = run_transform
        self.poll_seconds = poll_seconds
        self.stop = stop
        self.prefix = job_prefix(self.job)
        self.last_model_arn: str | None = None

    def __call__(
        self,
        number: int,
        labeled: list[tuple[int, str, int]],
        pool: list[tuple[int, str]],
        machine_labeled: list[tuple[int, str]],
    ) -> RoundModel | None:
        job, store, name = self.job, get_store(), child_name(self.job.name, number)
        train_uri = f"{self.prefix}/training/input/round-{number}/train.jsonl"
        store.write_bytes(
            train_uri,
            _jsonl({"id": pk, "source": source, "label": label} for pk, source, label in labeled),
        )
        pool_uri = f"{self.prefix}/inference/input/round-{number}/pool.jsonl"
        store.write_bytes(pool_uri, _jsonl({"id": pk, "source": source} for pk, source in pool))
        unlabeled_uri = f"{self.prefix}/training/input/round-{number}/unlabeled.jsonl"
        store.write_bytes(
            unlabeled_uri,
            _jsonl({"id": pk, "source": source} for pk, source in pool + machine_labeled),
        )
        training = training_job_create(
            user=job.owner,
            spec=self._training_spec(name, train_uri, unlabeled_uri),
            labeling_job=job,
        )
        if self.run_training is not None:
            self.run_training(training.pk)
        training = self._wait(training_job_by_id, training.pk, training_job_stop)
        if training is None:
            return None
        model = model_create(
            user=job.owner,
            spec={
                "ModelName": name,
                "PrimaryContainer": {
                    "Image": ALGORITHM,
                    "ModelDataUrl": training.model_artifacts,
                },
                "ExecutionRoleArn": job.spec["RoleArn"],
            },
        )
        self.last_model_arn = model.arn
        output = f"{self.prefix}/inference/output/round-{number}"
        transform = transform_job_create(
            user=job.owner, spec=_transform_spec(name, pool_uri, output), labeling_job=job
        )
        if self.run_transform is not None:
            self.run_transform(transform.pk)
        if self._wait(transform_job_by_id, transform.pk, transform_job_stop) is None:
            return None
        held_out, held_out_labels = _held_out(training.model_artifacts, {pk for pk, *_ in labeled})
        return RoundModel(
            pool_probabilities=_predictions(
                f"{output}/pool.jsonl.out", len(pool), classes=len(job.categories)
            ),
            held_out=held_out,
            held_out_labels=held_out_labels,
            model_arn=model.arn,
            training_job_name=training.name,
            transform_job_name=transform.name,
        )

    def _training_spec(self, name: str, train_uri: str, unlabeled_uri: str) -> dict:
        """The human labels as the ``train`` channel; every other item (the pool, and those
        machine-labeled in earlier rounds) as ``unlabeled``, which the features are fitted on
        too: the hard items left in a late round's pool alone would fit them poorly."""
        job = self.job
        return {
            "TrainingJobName": name,
            "AlgorithmSpecification": {"TrainingImage": ALGORITHM, "TrainingInputMode": "File"},
            "RoleArn": job.spec["RoleArn"],
            "HyperParameters": {
                "num_classes": str(len(job.categories)),
                "task_type": job.task_type,
            },
            "InputDataConfig": [
                {
                    "ChannelName": channel,
                    "ContentType": "application/jsonlines",
                    "DataSource": {
                        "S3DataSource": {
                            "S3DataType": "S3Prefix",
                            "S3Uri": uri,
                            "S3DataDistributionType": "FullyReplicated",
                        }
                    },
                }
                for channel, uri in (("train", train_uri), ("unlabeled", unlabeled_uri))
            ],
            "OutputDataConfig": {"S3OutputPath": f"{self.prefix}/training/output"},
            "ResourceConfig": {
                "InstanceType": INSTANCE_TYPE,
                "InstanceCount": 1,
                "VolumeSizeInGB": 1,
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": CHILD_MAX_SECONDS},
        }

    def _wait(self, get, job_id: int, stop):
        """The child job once it has ended (Completed), or None when the labeling job was asked
        to stop meanwhile (the child is asked to stop too). A child that failed or stopped by
        itself fails the labeling job, naming it."""
        while True:
            child = get(job_id=job_id)
            if child.status == "Completed":
                return child
            if child.status in ("Failed", "Stopped"):
                noun = type(child)._meta.verbose_name.capitalize()
                reason = f": {child.failure_reason}" if child.failure_reason else ""
                message = f"{noun} {child.name} ended {child.status}{reason}"
                if child.failure_reason.startswith("ClientError"):  # the items' fault
                    raise ValidationError("LabelingJobAlgorithmsConfig", message)
                raise ChildJobFailed(message)
            if self.stop():
                if child.status == "InProgress":
                    with contextlib.suppress(InvalidState):  # it ended meanwhile
                        stop(user=self.job.owner, name=child.name)
                return None
            time.sleep(self.poll_seconds)


ALGORITHM = "auto-labeling"
INSTANCE_TYPE = "ml.m5.large"
CHILD_MAX_SECONDS = 3600


def child_name(job_name: str, number: int) -> str:
    """The name of round ``number``'s training job, model and transform job: the labeling job's
    name and the round, within the 63 characters a name may have."""
    suffix = f"-round-{number}"
    if len(job_name) + len(suffix) <= 63:
        return job_name + suffix
    digest = hashlib.sha1(job_name.encode()).hexdigest()[:8]
    return f"{job_name[: 63 - len(suffix) - 9]}-{digest}{suffix}"


def _transform_spec(name: str, pool_uri: str, output: str) -> dict:
    return {
        "TransformJobName": name,
        "ModelName": name,
        "BatchStrategy": "MultiRecord",
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": pool_uri}},
            "ContentType": "application/jsonlines",
            "SplitType": "Line",
        },
        "TransformOutput": {
            "S3OutputPath": output,
            "Accept": "application/jsonlines",
            "AssembleWith": "Line",
        },
        "TransformResources": {"InstanceType": INSTANCE_TYPE, "InstanceCount": 1},
    }


def _jsonl(records) -> bytes:
    return "".join(json.dumps(record) + "\n" for record in records).encode()


def _predictions(uri: str, count: int, *, classes: int) -> np.ndarray:
    lines = get_store().read_bytes(uri).splitlines()
    if len(lines) != count:
        raise ChildJobFailed(f"{uri} holds {len(lines)} predictions for {count} items")
    out = np.array([json.loads(line)["probabilities"] for line in lines], dtype=float)
    return out.reshape(count, classes)


def _held_out(model_artifacts: str, labeled: set[int]) -> tuple[np.ndarray | None, np.ndarray]:
    """The held-out probabilities the training job wrote as output data, with their labels."""
    uri = model_artifacts.removesuffix("model.tar.gz") + "output.tar.gz"
    with tarfile.open(fileobj=io.BytesIO(get_store().read_bytes(uri)), mode="r:gz") as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith(HELD_OUT_FILE))
        records = [json.loads(line) for line in tar.extractfile(member).read().splitlines()]
    records = [r for r in records if r["id"] in labeled]
    if not records:
        return None, np.zeros(0, dtype=int)
    probs = np.array([r["probabilities"] for r in records], dtype=float)
    return probs, np.array([r["label"] for r in records], dtype=int)
