"""InputFilter, JoinSource and OutputFilter on CSV rows and JSON Lines records."""

import json

import pytest

from batch.processing import RecordError, RecordProcessor
from batch.spec import DataProcessing, TransformSpec


def processor(content_type="text/csv", accept=None, **processing) -> RecordProcessor:
    return RecordProcessor(
        TransformSpec(
            input_uri="s3://b/in/",
            output_path="s3://b/out/",
            content_type=content_type,
            accept=accept,
            split_type="Line",
            assemble_with="Line",
            data_processing=DataProcessing(**processing),
        )
    )


def test_csv_join_appends_the_output_columns_to_the_input_row():
    p = processor(join_source="Input")
    assert p.outputs([b"1,2,3"], b"1\n") == [b"1,2,3,1"]


def test_csv_reference_setup_drops_the_label_then_keeps_id_and_prediction():
    # InputFilter "$[1:]" sends the features only; OutputFilter "$[0,-1]" keeps the first input
    # column and the prediction of the joined row.
    p = processor(input_filter="$[1:]", join_source="Input", output_filter="$[0,-1]")
    rows = [b"id1,0.5,0.25", b"id2,1.5,2.5"]
    assert p.request_body(rows) == b"0.5,0.25\n1.5,2.5\n"
    assert p.outputs(rows, b"0.9\n0.1\n") == [b"id1,0.9", b"id2,0.1"]


def test_csv_negative_indexes_and_inclusive_slices_in_filters():
    p = processor(input_filter="$[1:2]", join_source="Input", output_filter="$[-2:]")
    rows = [b"a,b,c,d"]
    assert p.request_body(rows) == b"b,c\n"
    assert p.outputs(rows, b"7\n") == [b"d,7"]


def test_csv_output_filter_without_join_applies_to_the_output():
    p = processor(output_filter="$[1]")
    assert p.outputs([b"x"], b"0.2,0.8\n") == [b"0.8"]


def test_csv_quoting_survives_filters():
    p = processor(input_filter="$[1:]", join_source="Input")
    rows = [b'"a,b",1,"say ""hi"""']
    assert p.request_body(rows) == b'1,"say ""hi"""\n'
    assert p.outputs(rows, b"5\n") == [b'"a,b",1,"say ""hi""",5']


def test_json_object_gets_sagemaker_output_and_an_existing_one_is_overwritten():
    p = processor("application/jsonlines", join_source="Input")
    rows = [b'{"key":1,"SageMakerOutput":"old"}']
    out = p.outputs(rows, b'{"label":1}\n')
    assert json.loads(out[0]) == {"key": 1, "SageMakerOutput": {"label": 1}}


def test_json_non_objects_are_wrapped_with_their_input():
    p = processor("application/jsonlines", join_source="Input")
    out = p.outputs([b"[1,2,3]", b"5"], b"0.5\n0.7\n")
    assert [json.loads(line) for line in out] == [
        {"SageMakerInput": [1, 2, 3], "SageMakerOutput": 0.5},
        {"SageMakerInput": 5, "SageMakerOutput": 0.7},
    ]


def test_json_filters_select_features_in_and_keys_out():
    p = processor(
        "application/jsonlines",
        input_filter="$.features",
        join_source="Input",
        output_filter="$['id','SageMakerOutput']",
    )
    rows = [b'{"id":"a","features":[1,2],"extra":true}']
    assert p.request_body(rows) == b"[1,2]\n"
    assert json.loads(p.outputs(rows, b"0.25\n")[0]) == {"id": "a", "SageMakerOutput": 0.25}


def test_the_join_uses_the_whole_input_record_not_the_filtered_one():
    p = processor(input_filter="$[0]", join_source="Input")
    assert p.outputs([b"1,2,3"], b"9\n") == [b"1,2,3,9"]


def test_passthrough_keeps_the_model_lines_untouched():
    p = processor()
    assert p.passthrough
    assert p.request_body([b"1,2", b"3,4"]) == b"1,2\n3,4\n"
    assert p.outputs([b"1,2", b"3,4"], b"0.1\r\n0.2\n") == [b"0.1", b"0.2"]


@pytest.mark.parametrize(
    ("kwargs", "records", "response", "index"),
    [
        ({"input_filter": "$[5]"}, [b"1,2,3", b"1,2"], None, 0),
        ({"output_filter": "$[3]", "join_source": "Input"}, [b"1,2,3", b"1,2"], b"1\n2\n", 1),
        (
            {"join_source": "Input", "content_type": "application/jsonlines"},
            [b'{"a":1}', b"{broken"],
            b"1\n2\n",
            1,
        ),
        ({"join_source": "Input"}, [b"1", b"2"], b"1\n", 1),
    ],
)
def test_record_errors_point_at_the_record(kwargs, records, response, index):
    p = processor(**kwargs)
    with pytest.raises(RecordError) as error:
        if response is None:
            p.request_body(records)
        else:
            p.outputs(records, response)
    assert error.value.index == index
