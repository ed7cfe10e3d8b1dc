"""A training job's local disk: the scratch folders a killed run leaves are removed at start-up,
and an augmented manifest staged as the CSV the built-ins read."""

from __future__ import annotations

import json
import shutil

import pytest

from console.training.models import TrainingJob
from console.training.services import training_job_create
from flows.staging import channel_shards, download_channels, remove_abandoned_scratch, scratch_root
from infra.storage.inputs import InputError
from tests.fakes import QuietReporter, RecordingReporter
from tests.flows.test_training import request

pytestmark = pytest.mark.django_db


def test_scratch_of_a_killed_run_is_removed_at_start_up_and_a_running_jobs_kept(user, data_bucket):
    shutil.rmtree(scratch_root(), ignore_errors=True)
    running = training_job_create(user=user, spec=request(data_bucket, "running"))
    killed = training_job_create(user=user, spec=request(data_bucket, "killed"))
    for job in (running, killed):
        (scratch_root() / str(job.pk) / "input").mkdir(parents=True)
    # What the start-up reconcile does first for a job whose flow run is gone.
    TrainingJob.objects.filter(pk=killed.pk).update(status="Failed")

    assert remove_abandoned_scratch() == 1
    assert [folder.name for folder in scratch_root().iterdir()] == [str(running.pk)]


def augmented_channel(uri: str, names: list[str], **source) -> dict:
    return {
        "ChannelName": "train",
        "ContentType": "text/csv",
        "DataSource": {
            "S3DataSource": {
                "S3DataType": "AugmentedManifestFile",
                "S3Uri": uri,
                "AttributeNames": names,
                **source,
            }
        },
    }


def jsonl(*records: object) -> bytes:
    return "".join(json.dumps(record) + "\n" for record in records).encode()


def test_an_augmented_manifest_is_staged_as_one_csv_file_label_first(local_store, tmp_path):
    local_store.create_bucket("data")
    local_store.write_bytes("s3://data/rows/c.csv", b" 5, 6 \n")
    metadata = {"class-name": "yes", "confidence": 0.0, "type": "groundtruth/text-classification"}
    local_store.write_bytes(
        "s3://data/gt/output.manifest",
        jsonl(
            {"source": "1,2", "species": 1, "species-metadata": metadata},
            {"species": "0", "species-metadata": metadata, "source": "3,,4"},
        ),
    )
    reporter = RecordingReporter()
    uri = "s3://data/gt/output.manifest"
    [inline] = download_channels(
        [augmented_channel(uri, ["source", "species"])], tmp_path / "a", local_store, reporter
    ).values()

    assert inline.content_type == "text/csv;label_size=1"
    assert (inline.path / "output.manifest.csv").read_text() == "1,1,2\n0,3,,4\n"
    assert "Channel train: 2 records from the augmented manifest" in reporter.lines[0]
    # One attribute: features only; a -ref attribute's object is the row.
    local_store.write_bytes(
        "s3://data/refs.manifest", jsonl({"source-ref": "s3://data/rows/c.csv"})
    )
    [features] = download_channels(
        [augmented_channel("s3://data/refs.manifest", ["source-ref"])],
        tmp_path / "b",
        local_store,
        reporter,
    ).values()
    assert features.content_type == "text/csv;label_size=0"
    assert (features.path / "refs.manifest.csv").read_text() == "5,6\n"


@pytest.mark.parametrize(
    ("record", "rule"),
    [
        ({"source": "1,x", "label": 0}, "line 2, attribute 'source': column 2 is not a number"),
        ({"source": [1, 2], "label": 0}, "line 2, attribute 'source': expected a comma-separated"),
        ({"source": "1\n2", "label": 0}, "line 2, attribute 'source': expected one comma-sep"),
        ({"source": "1,2", "label": "cat"}, "line 2, attribute 'label': the label must be a num"),
        ({"source": "1,2", "label": {"a": 1}}, "line 2, attribute 'label': the label must be"),
        ({"source": "1,2", "label": True}, "line 2, attribute 'label': the label must be a num"),
        ({"source": "1,2"}, "line 2 has no attribute 'label'"),
    ],
)
def test_a_shape_staging_cannot_read_is_an_input_error_naming_the_line_and_attribute(
    local_store, tmp_path, record, rule
):
    local_store.create_bucket("data")
    local_store.write_bytes("s3://data/m.manifest", jsonl({"source": "1,2", "label": 1}, record))
    channel = augmented_channel("s3://data/m.manifest", ["source", "label"])
    with pytest.raises(InputError) as error:
        download_channels([channel], tmp_path, local_store, QuietReporter())
    assert str(error.value).startswith("s3://data/m.manifest: ")
    assert rule in error.value.rule


def test_an_augmented_manifest_is_not_sharded_across_instances(local_store):
    local_store.create_bucket("data")
    local_store.write_bytes("s3://data/m.manifest", jsonl({"source": "1,2", "label": 1}))
    channel = augmented_channel("s3://data/m.manifest", ["source", "label"])
    with pytest.raises(InputError, match="InstanceCount to 1"):
        channel_shards([channel], local_store, instances=2)


def prefix_channel(uri: str) -> dict:
    return {
        "ChannelName": "train",
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri}},
    }


@pytest.mark.parametrize(
    ("uri", "placed"),
    [
        # sess.upload_data("data", key_prefix="p/data") returns s3://data/p/data.
        ("s3://data/p/data", ["2/x.csv", "iris.csv", "sub/more.csv"]),
        ("s3://data/p/data/", ["iris.csv", "sub/more.csv"]),
        ("s3://data/p/data/iris.csv", ["iris.csv"]),
        ("s3://data/p/da", ["ta/iris.csv", "ta/sub/more.csv", "ta2/x.csv"]),
    ],
)
def test_prefix_channels_place_objects_as_sagemakers_containers_do(
    local_store, tmp_path, uri, placed
):
    """Keys keep their path after the prefix, as SageMaker and the SDK's local mode place them;
    a prefix naming one object gives that file."""
    local_store.create_bucket("data")
    for key in ("p/data/iris.csv", "p/data/sub/more.csv", "p/data2/x.csv"):
        local_store.write_bytes(f"s3://data/{key}", b"1,2\n")

    [channel] = download_channels(
        [prefix_channel(uri)], tmp_path / "in", local_store, QuietReporter()
    ).values()

    found = sorted(p.relative_to(channel.path).as_posix() for p in channel.path.rglob("*.csv"))
    assert found == placed
