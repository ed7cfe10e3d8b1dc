"""Listing inputs, naming outputs and cutting objects into line-aligned byte ranges."""

import gzip
import itertools
import json

import pytest

from batch.plan import (
    MAX_RANGE_BYTES,
    MIN_RANGE_BYTES,
    InputError,
    choose_range_bytes,
    find_ranges,
    output_uri,
    part_uri,
    plan_transform,
)
from batch.spec import TransformSpec


def spec(input_uri: str, **fields) -> TransformSpec:
    defaults = {"output_path": "s3://out/results/", "split_type": "Line"}
    return TransformSpec(input_uri=input_uri, **{**defaults, **fields})


def ranges_of(store, uri: str, data: bytes, range_bytes: int) -> list[bytes]:
    store.write_bytes(uri, data)
    cut = find_ranges(store, uri, size=len(data), range_bytes=range_bytes, window=3)
    assert cut[0].start == 0 and cut[-1].end == len(data)
    assert all(a.end == b.start for a, b in itertools.pairwise(cut))
    assert [r.index for r in cut] == list(range(len(cut)))
    return [data[r.start : r.end] for r in cut]


@pytest.fixture
def bucket(local_store):
    local_store.create_bucket("data")
    return "data"


def test_ranges_end_just_after_a_newline_so_crlf_stays_with_its_line(local_store, bucket):
    data = b"".join(f"{n},{n * 7}\r\n".encode() for n in range(200))
    pieces = ranges_of(local_store, "s3://data/a.csv", data, range_bytes=100)
    assert len(pieces) > 5
    assert b"".join(pieces) == data
    assert all(piece.endswith(b"\r\n") for piece in pieces)


def test_a_file_without_final_newline_keeps_its_last_line_whole(local_store, bucket):
    data = b"aaaa\nbbbb\ncccc\ndddd"
    pieces = ranges_of(local_store, "s3://data/b.csv", data, range_bytes=6)
    assert pieces == [b"aaaa\nbbbb\n", b"cccc\n", b"dddd"]


def test_a_cut_exactly_on_a_line_end_starts_the_next_line_there(local_store, bucket):
    assert ranges_of(local_store, "s3://data/c.csv", b"abc\ndef\nghi\n", range_bytes=4) == [
        b"abc\n",
        b"def\n",
        b"ghi\n",
    ]


def test_lines_longer_than_the_range_size_are_never_torn(local_store, bucket):
    data = b"x" * 50 + b"\n" + b"y" * 3 + b"\n" + b"z" * 40
    pieces = ranges_of(local_store, "s3://data/d.csv", data, range_bytes=10)
    assert pieces == [b"x" * 50 + b"\n", b"y" * 3 + b"\n", b"z" * 40]


def test_tiny_and_empty_objects_are_one_range(local_store, bucket):
    assert ranges_of(local_store, "s3://data/e.csv", b"1,2\n", range_bytes=1 << 20) == [b"1,2\n"]
    assert ranges_of(local_store, "s3://data/f.csv", b"", range_bytes=10) == [b""]


def test_prefix_inputs_keep_their_subpath_under_the_output_path(local_store, bucket):
    for key in ("in/a.csv", "in/sub/b.csv", "other/c.csv"):
        local_store.write_bytes(f"s3://data/{key}", b"1\n")
    plans = plan_transform(spec("s3://data/in/"), local_store, job_name="j")
    assert [(p.index, p.uri, p.output_uri) for p in plans] == [
        (0, "s3://data/in/a.csv", "s3://out/results/a.csv.out"),
        (1, "s3://data/in/sub/b.csv", "s3://out/results/sub/b.csv.out"),
    ]


def test_a_partial_key_prefix_keeps_paths_relative_to_its_folder(local_store, bucket):
    local_store.write_bytes("s3://data/in/input1.csv", b"1\n")
    local_store.write_bytes("s3://data/in/input2/x.csv", b"1\n")
    plans = plan_transform(spec("s3://data/in/input"), local_store, job_name="j")
    assert [p.relative_path for p in plans] == ["input1.csv", "input2/x.csv"]


def test_manifest_lists_prefix_plus_relative_keys(local_store, bucket):
    local_store.write_bytes("s3://data/m/one.csv", b"1\n")
    local_store.write_bytes("s3://data/m/deep/two.csv", b"2\n")
    manifest = [{"prefix": "s3://data/m/"}, "deep/two.csv", "one.csv"]
    local_store.write_bytes("s3://data/manifest.json", json.dumps(manifest).encode())
    plans = plan_transform(
        spec("s3://data/manifest.json", s3_data_type="ManifestFile"), local_store, job_name="j"
    )
    assert [p.output_uri for p in plans] == [
        "s3://out/results/deep/two.csv.out",
        "s3://out/results/one.csv.out",
    ]


def test_a_malformed_manifest_is_an_input_error(local_store, bucket):
    local_store.write_bytes("s3://data/manifest.json", b'{"prefix": "s3://data/"}')
    with pytest.raises(InputError) as error:
        plan_transform(
            spec("s3://data/manifest.json", s3_data_type="ManifestFile"), local_store, job_name="j"
        )
    assert "JSON array" in error.value.rule


def test_an_empty_prefix_is_an_input_error(local_store, bucket):
    with pytest.raises(InputError, match="matches no objects"):
        plan_transform(spec("s3://data/nothing/"), local_store, job_name="j")


def test_gzip_and_unsplit_objects_are_single_ranges(local_store, bucket):
    data = b"1,2\n" * 1000
    local_store.write_bytes("s3://data/z/a.csv.gz", gzip.compress(data))
    local_store.write_bytes("s3://data/w/a.csv", data)
    gz = plan_transform(
        spec("s3://data/z/", compression="Gzip"), local_store, job_name="j", range_bytes=100
    )
    whole = plan_transform(
        spec("s3://data/w/", split_type="None"), local_store, job_name="j", range_bytes=100
    )
    lines = plan_transform(spec("s3://data/w/"), local_store, job_name="j", range_bytes=100)
    assert len(gz[0].ranges) == 1 and len(whole[0].ranges) == 1
    assert len(lines[0].ranges) == 40


def test_the_jobs_own_scratch_under_the_input_prefix_is_not_input(local_store, bucket):
    local_store.write_bytes("s3://data/in/a.csv", b"1\n")
    local_store.write_bytes(part_uri("s3://data/in/", "j", 0, 0), b"stale")
    plans = plan_transform(
        spec("s3://data/in/", output_path="s3://data/in/"), local_store, job_name="j"
    )
    assert [p.uri for p in plans] == ["s3://data/in/a.csv"]


def test_output_naming_adds_out_to_the_relative_path():
    assert output_uri("s3://o/p", "x/y.csv") == "s3://o/p/x/y.csv.out"
    assert output_uri("s3://o/p/", "y.csv") == "s3://o/p/y.csv.out"


def test_range_size_gives_every_worker_several_ranges_within_bounds():
    mib = 1024 * 1024
    assert choose_range_bytes(400 * mib, workers=2) == 50 * mib
    assert choose_range_bytes(10 * mib, workers=2) == MIN_RANGE_BYTES  # small: few ranges
    assert choose_range_bytes(100_000 * mib, workers=2) == MAX_RANGE_BYTES
