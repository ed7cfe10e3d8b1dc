"""One range through the LightGBM built-in into its part object, outside Dask."""

import codecs

import pytest

from batch.plan import ByteRange
from batch.predict import RangeTask, run_range
from batch.spec import TransformSpec

ROWS = [b"0.1,0.2,0.3,0.4,0.5", b"1,2,3,4,5", b"-1,0,1,0,-1"]


@pytest.fixture
def data(local_store):
    local_store.create_bucket("bkt")
    body = b"\n".join(ROWS) + b"\n"
    local_store.write_bytes("s3://bkt/in/a.csv", body + b"\n" + body)  # line 4 is blank
    return body


def task(store, model_dir, data: bytes, **spec_fields) -> RangeTask:
    spec = TransformSpec(
        input_uri="s3://bkt/in/", output_path="s3://bkt/out/", split_type="Line", **spec_fields
    )
    start = len(data) + 1  # the second copy, after the blank line
    return RangeTask(
        spec=spec,
        store=store,
        containers=({"Image": "lightgbm", "ModelDataUrl": str(model_dir)},),
        object_index=0,
        object_uri="s3://bkt/in/a.csv",
        range=ByteRange(1, start, start + len(data)),
        part_uri="s3://bkt/out/.parts/0/1",
    )


@pytest.mark.parametrize("batch_strategy", ["MultiRecord", "SingleRecord"])
def test_a_range_writes_its_part_and_counts_its_lines(
    local_store, lightgbm_model_dir, lightgbm_model, data, batch_strategy
):
    result = run_range(task(local_store, lightgbm_model_dir, data, batch_strategy=batch_strategy))
    assert result.failure is None
    assert (result.range_index, result.records, result.lines) == (1, 3, 3)
    expected = lightgbm_model.invoke(data, "text/csv", "text/csv")
    assert local_store.read_bytes("s3://bkt/out/.parts/0/1") == expected
    assert result.bytes_out == len(expected)
    assert result.bytes_in == len(data)


@pytest.mark.parametrize("batch_strategy", ["MultiRecord", "SingleRecord"])
@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (b"five", "five"),
        (b"caf\xe9", "not UTF-8 text: byte 0xe9"),  # Latin-1
        (codecs.BOM_UTF16_LE + "5".encode("utf-16-le"), "a UTF-16 byte-order mark"),
    ],
    ids=["not-a-number", "latin-1", "utf-16"],
)
def test_bad_data_fails_the_range_with_its_line_and_writes_no_part(
    local_store, lightgbm_model_dir, data, batch_strategy, bad, message
):
    local_store.write_bytes(
        "s3://bkt/in/a.csv", data + b"\n" + data.replace(b"1,2,3,4,5", b"1,2,3,4," + bad)
    )
    result = run_range(task(local_store, lightgbm_model_dir, data, batch_strategy=batch_strategy))
    assert result.failure is not None
    assert result.failure.line == 2  # within the range; the engine adds the lines before it
    assert message in result.failure.message
    assert not local_store.exists("s3://bkt/out/.parts/0/1")


def test_a_worker_scoring_a_lightgbm_model_imports_no_other_algorithm(
    local_store, lightgbm_model_dir, data
):
    # A fresh interpreter, as a Dask worker is: only the model's own algorithm is imported.
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from batch.predict import load_model_cached\n"
        f"load_model_cached([{{'ModelDataUrl': {str(lightgbm_model_dir)!r}}}], None)\n"
        "print(sorted(m for m in ('torch', 'xgboost', 'lightgbm') if m in sys.modules))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "['lightgbm']"


def test_several_containers_load_once_as_a_serial_pipeline(lightgbm_model_dir):
    from algorithms.loading import PipelineModel
    from batch.predict import load_model_cached

    containers = [
        {"Image": "lightgbm", "ModelDataUrl": str(lightgbm_model_dir)},
        {"Image": "lightgbm", "ModelDataUrl": str(lightgbm_model_dir) + "/"},
    ]
    model = load_model_cached(containers, None)
    assert isinstance(model, PipelineModel) and len(model.stages) == 2
    assert load_model_cached(tuple(containers), None) is model
