"""End to end: a real two-worker Dask cluster, both storage backends, the LightGBM built-in."""

from __future__ import annotations

import gzip
import json
import os
import time
from collections import Counter

import pytest
from distributed import get_task_stream

from batch.engine import Progress, run_transform
from batch.plan import TEMP_DIR
from batch.spec import DataProcessing, TransformSpec
from tests.conftest import FEATURES
from tests.datasets import feature_rows, oracle

# Small ranges, so that a few hundred KB make many ranges spread over both workers.
RANGE_BYTES = 16 * 1024


def write_lines(store, uri: str, rows: list[bytes], *, newline=b"\n", final=True) -> bytes:
    data = newline.join(rows) + (newline if final else b"")
    store.write_bytes(uri, data)
    return data


def line_spec(bucket: str, **fields) -> TransformSpec:
    defaults = {
        "input_uri": f"s3://{bucket}/in/",
        "output_path": f"s3://{bucket}/out/",
        "split_type": "Line",
        "assemble_with": "Line",
    }
    return TransformSpec(**{**defaults, **fields})


def transform(spec, store, dask_client, model_uri, **kwargs):
    return run_transform(
        spec,
        job_name="job-1",
        containers=[{"Image": "lightgbm", "ModelDataUrl": model_uri}],
        store=store,
        client=dask_client,
        range_bytes=kwargs.pop("range_bytes", RANGE_BYTES),
        **kwargs,
    )


def outputs(store, bucket: str) -> dict[str, bytes]:
    prefix = f"s3://{bucket}/out/"
    return {info.uri[len(prefix) :]: store.read_bytes(info.uri) for info in store.list(prefix)}


def test_every_object_gets_one_out_in_input_order(
    store, bucket, model_uri, dask_client, lightgbm_model
):
    big = feature_rows(4000, FEATURES, seed=1)  # ~140 KB: about ten ranges
    crlf, no_final, deep = (
        feature_rows(300, FEATURES, seed=2),
        feature_rows(50, FEATURES, seed=3),
        feature_rows(20, FEATURES, seed=4),
    )
    write_lines(store, f"s3://{bucket}/in/big.csv", big)
    write_lines(store, f"s3://{bucket}/in/crlf.csv", crlf, newline=b"\r\n")
    write_lines(store, f"s3://{bucket}/in/no-final.csv", no_final, final=False)
    write_lines(store, f"s3://{bucket}/in/sub/deep.csv", deep)
    store.write_bytes(f"s3://{bucket}/elsewhere.csv", b"not,an,input\n")
    reports: list[Progress] = []

    result = transform(line_spec(bucket), store, dask_client, model_uri, progress=reports.append)

    assert result.status == "Completed" and result.failure_reason is None
    assert outputs(store, bucket) == {
        "big.csv.out": oracle(lightgbm_model, big),
        "crlf.csv.out": oracle(lightgbm_model, crlf),
        "no-final.csv.out": oracle(lightgbm_model, no_final),
        "sub/deep.csv.out": oracle(lightgbm_model, deep),
    }
    assert [o.records for o in result.objects] == [4000, 300, 50, 20]
    assert result.records == 4370
    assert reports[-1].ranges_done == reports[-1].ranges_total > 8
    assert reports[-1].bytes_done == reports[-1].bytes_total == result.bytes_in
    assert [(o.status, o.records, o.bytes_in) for o in reports[-1].objects] == [
        ("Completed", o.records, o.size) for o in result.objects
    ]


def test_single_record_batches_give_the_same_output(
    store, bucket, model_uri, dask_client, lightgbm_model
):
    rows = feature_rows(40, FEATURES, seed=5)
    write_lines(store, f"s3://{bucket}/in/a.csv", rows)
    spec = line_spec(bucket, batch_strategy="SingleRecord")
    result = transform(spec, store, dask_client, model_uri, range_bytes=300)
    assert result.status == "Completed"
    assert outputs(store, bucket) == {"a.csv.out": oracle(lightgbm_model, rows)}


def test_assemble_with_line_puts_a_newline_after_each_response_that_lacks_one(
    store, bucket, model_uri, dask_client, lightgbm_model
):
    # SplitType=None sends each object whole; an application/json answer is one document with no
    # trailing newline. None concatenates responses as they are, Line ends each with "\n".
    rows = feature_rows(10, FEATURES, seed=6)
    write_lines(store, f"s3://{bucket}/in/a.csv", rows)
    expected = oracle(lightgbm_model, rows, accept="application/json")
    assert not expected.endswith(b"\n")
    for assemble_with, suffix in (("None", b""), ("Line", b"\n")):
        spec = line_spec(
            bucket, split_type="None", assemble_with=assemble_with, accept="application/json"
        )
        assert transform(spec, store, dask_client, model_uri).status == "Completed"
        assert outputs(store, bucket) == {"a.csv.out": expected + suffix}


def test_line_output_has_exactly_one_newline_per_record(
    store, bucket, model_uri, dask_client, lightgbm_model
):
    rows = feature_rows(30, FEATURES, seed=7)
    write_lines(store, f"s3://{bucket}/in/a.csv", [*rows[:15], b"", b"  ", *rows[15:]])
    for assemble_with in ("None", "Line"):
        spec = line_spec(bucket, assemble_with=assemble_with)
        assert transform(spec, store, dask_client, model_uri, range_bytes=200).status == "Completed"
        out = outputs(store, bucket)["a.csv.out"]
        assert out == oracle(lightgbm_model, rows)  # blank lines are not records: no output
        assert out.count(b"\n") == 30 and out.endswith(b"\n")


def test_gzip_objects_are_decompressed_and_named_after_the_object(
    store, bucket, model_uri, dask_client, lightgbm_model
):
    rows = feature_rows(500, FEATURES, seed=8)
    store.write_bytes(f"s3://{bucket}/in/a.csv.gz", gzip.compress(b"\n".join(rows) + b"\n"))
    spec = line_spec(bucket, compression="Gzip")
    assert transform(spec, store, dask_client, model_uri).status == "Completed"
    assert outputs(store, bucket) == {"a.csv.gz.out": oracle(lightgbm_model, rows)}


def test_csv_join_keeps_the_id_column_and_appends_the_prediction(
    store, bucket, model_uri, dask_client, lightgbm_model
):
    rows = feature_rows(600, FEATURES, seed=9)
    with_ids = [b"id%d," % n + row for n, row in enumerate(rows)]
    write_lines(store, f"s3://{bucket}/in/a.csv", with_ids)
    spec = line_spec(
        bucket,
        data_processing=DataProcessing(
            input_filter="$[1:]", join_source="Input", output_filter="$[0,-1]"
        ),
    )
    assert transform(spec, store, dask_client, model_uri).status == "Completed"
    predictions = oracle(lightgbm_model, rows).splitlines()
    expected = b"".join(b"id%d,%s\n" % (n, p) for n, p in enumerate(predictions))
    assert outputs(store, bucket) == {"a.csv.out": expected}


def test_jsonlines_join_adds_sagemaker_output_to_objects_and_wraps_the_rest(
    store, bucket, model_uri, dask_client, lightgbm_model
):
    rows = feature_rows(300, FEATURES, seed=10)
    features = [json.loads(b"[" + row + b"]") for row in rows]
    records = [
        json.dumps({"id": n, "features": f}) if n % 2 else json.dumps({"features": f})
        for n, f in enumerate(features)
    ]
    write_lines(store, f"s3://{bucket}/in/a.jsonl", [r.encode() for r in records])
    jsonl = "application/jsonlines"
    spec = line_spec(
        bucket,
        content_type=jsonl,
        accept=jsonl,
        data_processing=DataProcessing(input_filter="$.features", join_source="Input"),
    )
    assert transform(spec, store, dask_client, model_uri).status == "Completed"
    predictions = [
        json.loads(line)
        for line in oracle(
            lightgbm_model, [json.dumps(f).encode() for f in features], jsonl, jsonl
        ).splitlines()
    ]
    got = [json.loads(line) for line in outputs(store, bucket)["a.jsonl.out"].splitlines()]
    assert got == [
        {**json.loads(record), "SageMakerOutput": prediction}
        for record, prediction in zip(records, predictions, strict=True)
    ]


def test_a_bad_object_fails_alone_naming_the_object_and_the_line(
    store, bucket, model_uri, dask_client, lightgbm_model
):
    good = feature_rows(200, FEATURES, seed=11)
    bad = feature_rows(3000, FEATURES, seed=12)
    bad[2345] = b"1,2,oops,4,5"  # far into the object: in a later range
    lines = [*bad[:100], b"", *bad[100:]]  # a blank line still counts as a line
    write_lines(store, f"s3://{bucket}/in/a.csv", good)
    write_lines(store, f"s3://{bucket}/in/b.csv", lines, newline=b"\r\n")
    write_lines(store, f"s3://{bucket}/in/c.csv", good)

    log: list[str] = []
    result = transform(line_spec(bucket), store, dask_client, model_uri, log=log.append)

    assert result.status == "Failed"
    assert log[0].startswith("Transform job job-1: 3 input objects, ")
    assert "BatchStrategy=MultiRecord, SplitType=Line" in log[1]
    assert f"s3://{bucket}/in/a.csv: 200 records -> s3://{bucket}/out/a.csv.out" in log
    assert f"Failed s3://{bucket}/in/b.csv line 2347: {failure_message(result)}" in log
    assert log[-1] == "Transform job Failed: 2 of 3 objects transformed, 400 records"
    assert outputs(store, bucket) == {
        "a.csv.out": oracle(lightgbm_model, good),
        "c.csv.out": oracle(lightgbm_model, good),
    }
    assert [o.status for o in result.objects] == ["Completed", "Failed", "Completed"]
    [failure] = result.failures
    assert (failure.object_uri, failure.line) == (f"s3://{bucket}/in/b.csv", 2347)
    assert "oops" in failure.message
    assert f"s3://{bucket}/in/b.csv line 2347: " in result.failure_reason
    assert not any(TEMP_DIR in info.uri for info in store.list(f"s3://{bucket}/"))


def failure_message(result) -> str:
    return result.failures[0].message


def test_a_record_over_max_payload_fails_its_object_with_the_line(
    store, bucket, model_uri, dask_client
):
    rows = feature_rows(5, FEATURES, seed=13)
    rows[3] = b",".join([b"1.0"] * (300 * 1024))  # ~1.2 MB, over MaxPayloadInMB=1
    write_lines(store, f"s3://{bucket}/in/a.csv", rows)
    result = transform(line_spec(bucket, max_payload_mb=1), store, dask_client, model_uri)
    assert result.status == "Failed"
    assert result.failures[0].line == 4
    assert "MaxPayloadInMB" in result.failures[0].message
    assert outputs(store, bucket) == {}


def test_stop_mid_job_publishes_nothing_more_and_leaves_no_parts(
    store, bucket, model_uri, dask_client
):
    for n in range(8):
        write_lines(store, f"s3://{bucket}/in/{n}.csv", feature_rows(60, FEATURES, seed=n))
    spec = line_spec(bucket, batch_strategy="SingleRecord")

    # The user stops the job as soon as its first output appears. The engine asks between range
    # completions, so the stop lands right after that publish however fast the ranges run (a stop
    # read from the half-second progress reports could come after the last object).
    result = transform(
        spec,
        store,
        dask_client,
        model_uri,
        range_bytes=1024,
        should_stop=lambda: any(
            info.uri.endswith(".out") for info in store.list(f"s3://{bucket}/out/")
        ),
    )

    assert result.status == "Stopped"
    completed = {o.output_uri for o in result.objects if o.status == "Completed"}
    assert 1 <= len(completed) < 8
    assert {o.status for o in result.objects} == {"Completed", "Stopped"}
    listed = {info.uri for info in store.list(f"s3://{bucket}/out/")}
    assert listed == completed  # nothing published after the stop, no temporary parts left


# One backend only: a restarted worker re-imports the algorithms (seconds), and what matters here
# (deterministic part keys, atomic multipart writes) is what the S3 backend does.
@pytest.mark.parametrize("store", ["s3"], indirect=True)
def test_a_worker_lost_mid_job_has_its_ranges_rerun_without_duplicates(
    store, bucket, model_uri, dask_client, lightgbm_model
):
    rows = feature_rows(400, FEATURES, seed=14)
    # Two objects: the first one's finished ranges would be rerun ahead of the second's.
    write_lines(store, f"s3://{bucket}/in/a.csv", rows[:200])
    write_lines(store, f"s3://{bucket}/in/b.csv", rows[200:])
    workers_before = set(dask_client.scheduler_info()["workers"])
    killed: list[Progress] = []
    first_done: list[str] = []
    started = time.time()

    async def die() -> None:
        os._exit(1)  # no cleanup, as when a machine goes away

    def kill_one_worker(report: Progress) -> None:
        if not killed and report.ranges_done >= 2:
            time.sleep(0.5)  # the engine's release of the recorded ranges reaches the scheduler
            # The worker that finished the first range, which the engine has recorded by now.
            first = dask_client.get_task_stream(start=started)[0]
            first_done.append(first["key"])
            victim = first["worker"]
            dask_client.run(die, workers=[victim], wait=False)
            killed.append(report)

    spec = line_spec(bucket, batch_strategy="SingleRecord")
    with get_task_stream(dask_client) as runs:
        result = transform(
            spec, store, dask_client, model_uri, range_bytes=1024, progress=kill_one_worker
        )

    assert killed and killed[0].ranges_done < killed[0].ranges_total  # it died mid-job
    # A recorded range is not run again (only ranges in hand or not yet read may be).
    assert Counter(run["key"] for run in runs.data)[first_done[0]] == 1
    assert set(dask_client.scheduler_info()["workers"]) != workers_before
    assert result.status == "Completed"
    assert outputs(store, bucket) == {
        "a.csv.out": oracle(lightgbm_model, rows[:200]),
        "b.csv.out": oracle(lightgbm_model, rows[200:]),
    }
