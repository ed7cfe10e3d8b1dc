"""The objects an S3DataSource names, and the records of an augmented manifest."""

from __future__ import annotations

import json

import pytest

from infra.storage.inputs import InputError, list_inputs, read_augmented_manifest


@pytest.fixture
def data(local_store) -> str:
    local_store.create_bucket("data")
    return "data"


def lines(*records: object) -> bytes:
    return "".join(json.dumps(record) + "\n" for record in records).encode()


def test_an_augmented_manifest_is_its_one_object(local_store, data):
    local_store.write_bytes("s3://data/gt/output.manifest", lines({"source": "1,2"}))
    [item] = list_inputs(
        local_store, data_type="AugmentedManifestFile", uri="s3://data/gt/output.manifest"
    )
    assert (item.uri, item.relative_path) == ("s3://data/gt/output.manifest", "output.manifest")

    with pytest.raises(InputError, match="names no augmented manifest object"):
        list_inputs(local_store, data_type="AugmentedManifestFile", uri="s3://data/missing")


def test_records_give_the_attributes_in_order_and_read_what_a_ref_attribute_names(
    local_store, data
):
    local_store.write_bytes("s3://data/rows/b.csv", b"3,4\n")
    local_store.write_bytes(
        "s3://data/m.manifest",
        lines(
            {"species": 1, "source": "1,2", "species-metadata": {"class-name": "b"}},
            {"source-ref": "s3://data/rows/b.csv", "species": 0},
        )
        + b"\n",  # a blank line is no record
    )
    records = read_augmented_manifest(
        local_store, uri="s3://data/m.manifest", attribute_names=["source", "species"]
    )
    assert next(records) == (1, ["1,2", 1])
    with pytest.raises(InputError, match=r"line 2 has no attribute 'source'"):
        next(records)

    refs = read_augmented_manifest(
        local_store, uri="s3://data/m.manifest", attribute_names=["source-ref", "species"]
    )
    with pytest.raises(InputError, match=r"line 1 has no attribute 'source-ref'"):
        next(refs)
    local_store.write_bytes(
        "s3://data/refs.manifest", lines({"source-ref": "s3://data/rows/b.csv", "species": 0})
    )
    assert list(
        read_augmented_manifest(
            local_store, uri="s3://data/refs.manifest", attribute_names=["source-ref", "species"]
        )
    ) == [(1, ["3,4\n", 0])]


@pytest.mark.parametrize(
    ("content", "rule"),
    [
        (b'{"source": "1"}\nnot json\n', "line 2 is not JSON"),
        (b'{"source": "1"}\n[1, 2]\n', "line 2 is not a JSON object"),
        (b'{"source-ref": 7}\n', "line 1, attribute 'source-ref': expected an s3:// URI"),
        (b'{"source-ref": "s3://data/none"}\n', "line 1, attribute 'source-ref': s3://data/none"),
    ],
)
def test_a_bad_line_is_an_input_error_naming_the_manifest_and_line(
    local_store, data, content, rule
):
    local_store.write_bytes("s3://data/bad.manifest", content)
    name = "source-ref" if b"source-ref" in content else "source"
    with pytest.raises(InputError) as error:
        list(
            read_augmented_manifest(
                local_store, uri="s3://data/bad.manifest", attribute_names=[name]
            )
        )
    assert error.value.uri == "s3://data/bad.manifest"
    assert rule in error.value.rule
