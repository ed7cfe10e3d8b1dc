"""Script-mode serving with the default handlers: what the SDK's framework predictors send by
default (NumPy's ``.npy``) and what SageMaker's inference toolkit reads and writes, in endpoints
(through the serving batcher) and in batch transform (the model's ``invoke``)."""

from __future__ import annotations

import io
import json
from types import ModuleType

import numpy as np
import pytest
import torch
from scipy import sparse
from sklearn.tree import DecisionTreeClassifier

from algorithms import DataError, UnsupportedContentType
from algorithms.inference import ScriptModel
from algorithms.inference_context import CUSTOM_ATTRIBUTES_HEADER, custom_attributes_problem
from infra.serving.batching import Call, invoke_batch

ROWS = np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]])
LABELS = np.array([0.0, 2.0, 1.0])


def npy(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def from_npy(body: bytes) -> np.ndarray:
    return np.load(io.BytesIO(body))


@pytest.fixture
def sklearn_model() -> ScriptModel:
    classifier = DecisionTreeClassifier(random_state=0).fit(ROWS, LABELS)
    return ScriptModel(model=classifier, handlers=ModuleType("handlers"))  # model_fn only


def test_numpy_in_numpy_out_as_the_sdks_sklearn_predictor_sends(sklearn_model) -> None:
    [outcome] = invoke_batch(
        sklearn_model, [Call(npy(ROWS), "application/x-npy", "application/x-npy")]
    )

    assert outcome.ok and outcome.content_type == "application/x-npy"
    np.testing.assert_array_equal(from_npy(outcome.body), LABELS)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (npy(ROWS), "application/x-npy"),
        (npy(ROWS.astype(np.float32)), "application/x-npy"),
        ("\n".join(",".join(map(str, row)) for row in ROWS).encode(), "text/csv"),
        (json.dumps(ROWS.tolist()).encode(), "application/json"),
        (json.dumps({"instances": ROWS.tolist()}).encode(), "application/json"),
        (
            b"".join(json.dumps(row).encode() + b"\n" for row in ROWS.tolist()),
            "application/jsonlines",
        ),
    ],
)
def test_every_request_type_of_the_toolkit_predicts_the_same(
    sklearn_model, body: bytes, content_type: str
) -> None:
    answer = sklearn_model.invoke(body, content_type, "application/json")
    assert json.loads(answer) == LABELS.tolist()


def test_sparse_npz_requests_are_read(sklearn_model) -> None:
    buffer = io.BytesIO()
    sparse.save_npz(buffer, sparse.csr_matrix(ROWS))
    answer = sklearn_model.invoke(buffer.getvalue(), "application/x-npz", "text/csv")
    assert answer.decode().split() == ["0.0", "2.0", "1.0"]


def test_one_record_is_one_row(sklearn_model) -> None:
    assert json.loads(sklearn_model.invoke(npy(ROWS[1]), "application/x-npy", "")) == [2.0]
    assert json.loads(sklearn_model.invoke(b"[6.7, 3.0, 5.2, 2.3]", "application/json", "")) == [
        2.0
    ]


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        ("", "application/json"),
        ("*/*", "application/json"),
        ("text/csv", "text/csv"),
        ("application/x-npy", "application/x-npy"),
        ("image/png, application/x-npy", "application/x-npy"),
        ("application/jsonlines", "application/jsonlines"),
    ],
)
def test_the_answer_is_in_the_accepted_type_and_says_so(
    sklearn_model, accept, content_type
) -> None:
    [outcome] = invoke_batch(sklearn_model, [Call(npy(ROWS), "application/x-npy", accept)])

    assert outcome.ok and outcome.content_type == content_type
    if content_type == "application/x-npy":
        np.testing.assert_array_equal(from_npy(outcome.body), LABELS)
    elif content_type == "application/json":
        assert json.loads(outcome.body) == LABELS.tolist()
    else:
        assert outcome.body.decode().split() == ["0.0", "2.0", "1.0"]


def test_joined_csv_requests_each_get_their_own_lines(sklearn_model) -> None:
    calls = [
        Call(b"5.1,3.5,1.4,0.2\n", "text/csv", "text/csv"),
        Call(b"6.7,3.0,5.2,2.3\n5.9,3.0,4.2,1.5\n", "text/csv", "text/csv"),
    ]

    first, second = invoke_batch(sklearn_model, calls)

    assert (first.body, second.body) == (b"0.0\n", b"2.0\n1.0\n")
    assert first.content_type == second.content_type == "text/csv"


def test_unreadable_requests_are_the_callers_errors(sklearn_model) -> None:
    pickled = npy(np.array([{"a": 1}], dtype=object))
    with pytest.raises(DataError, match="must hold numbers"):
        sklearn_model.invoke(pickled, "application/x-npy", "application/json")
    with pytest.raises(DataError, match="not a NumPy"):
        sklearn_model.invoke(b"1,2,3", "application/x-npy", "application/json")
    with pytest.raises(UnsupportedContentType, match="application/x-npy"):
        sklearn_model.invoke(b"...", "image/png", "application/json")
    with pytest.raises(UnsupportedContentType, match="application/x-npy"):
        sklearn_model.invoke(npy(ROWS), "application/x-npy", "image/png")
    [outcome] = invoke_batch(
        sklearn_model, [Call(b"1,2,3", "application/x-npy", "application/x-npy")]
    )
    assert outcome.status == 400 and "not a NumPy" in outcome.error


def test_a_torch_module_answers_numpy_images_as_the_pytorch_predictor_sends() -> None:
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(28 * 28, 10), torch.nn.LogSoftmax(dim=1)
    )
    images = np.random.default_rng(1).random((4, 1, 28, 28), dtype=np.float32)
    model = ScriptModel(model=net, handlers=ModuleType("handlers"))

    [outcome] = invoke_batch(model, [Call(npy(images), "application/x-npy", "application/x-npy")])

    assert outcome.content_type == "application/x-npy"
    answer = from_npy(outcome.body)
    with torch.no_grad():
        expected = net(torch.from_numpy(images)).numpy()
    assert answer.shape == (4, 10)
    np.testing.assert_allclose(answer, expected, rtol=1e-5)
    # Nested JSON lists of the same images, as the toolkit's JSON decoder reads them.
    as_json = model.invoke(
        json.dumps(images.tolist()).encode(), "application/json", "application/json"
    )
    np.testing.assert_allclose(json.loads(as_json), expected, rtol=1e-4)


def test_a_tensor_from_the_users_predict_fn_is_encoded() -> None:
    handlers = ModuleType("handlers")
    handlers.predict_fn = lambda data, model: torch.as_tensor(data).sum(dim=1)
    model = ScriptModel(model=None, handlers=handlers)

    answer = model.invoke(npy(np.ones((2, 3))), "application/x-npy", "application/x-npy")

    np.testing.assert_array_equal(from_npy(answer), [3.0, 3.0])


def test_the_users_output_fn_answers_in_the_accept_it_was_given() -> None:
    handlers = ModuleType("handlers")
    handlers.predict_fn = lambda data, model: data
    handlers.output_fn = lambda prediction, accept: f"{accept}:{prediction.shape}"
    model = ScriptModel(model=None, handlers=handlers)

    [outcome] = invoke_batch(model, [Call(npy(np.ones((2, 3))), "application/x-npy", "")])

    assert outcome.body == b"application/json:(2, 3)"
    assert outcome.content_type == "application/json"


def test_a_content_type_the_users_output_fn_names_is_the_answers() -> None:
    handlers = ModuleType("handlers")
    handlers.predict_fn = lambda data, model: data
    handlers.output_fn = lambda prediction, accept: ("<b>2 rows</b>", "text/html")
    model = ScriptModel(model=None, handlers=handlers)

    [outcome] = invoke_batch(model, [Call(npy(np.ones((2, 3))), "application/x-npy", "")])

    assert (outcome.body, outcome.content_type) == (b"<b>2 rows</b>", "text/html")
    assert type(outcome.body) is bytes


# ---- CustomAttributes: in on the handlers' context, back when they set them ------------------


def _echoing_handlers() -> ModuleType:
    """A user's handlers that read the caller's attributes and answer some of their own, as the
    inference toolkit lets a handler that takes ``context`` do."""
    handlers = ModuleType("handlers")

    def input_fn(data, content_type, context):
        properties = context.request_processor[0].get_request_properties()
        return properties.get(CUSTOM_ATTRIBUTES_HEADER, "")

    def output_fn(prediction, accept, context):
        context.set_response_header(0, CUSTOM_ATTRIBUTES_HEADER, f"seen={prediction}")
        return json.dumps({"attributes": prediction})

    handlers.input_fn = input_fn
    handlers.predict_fn = lambda data, model: data  # no context: called as before
    handlers.output_fn = output_fn
    return handlers


def test_the_callers_attributes_reach_the_handlers_and_theirs_come_back() -> None:
    model = ScriptModel(model=None, handlers=_echoing_handlers())
    calls = [
        Call(b"1,2\n", "text/csv", "application/json", "trace=a1"),
        Call(b"3,4\n", "text/csv", "application/json", "trace=b2"),
    ]

    first, second = invoke_batch(model, calls)

    assert json.loads(first.body) == {"attributes": "trace=a1"}
    assert (first.custom_attributes, second.custom_attributes) == ("seen=trace=a1", "seen=trace=b2")


def test_a_transform_fn_sees_the_attributes_by_the_tensorflow_containers_name() -> None:
    handlers = ModuleType("handlers")

    def transform_fn(model, data, content_type, accept, context):
        return f"{context.custom_attributes}|{context.get_request_header(0, 'accept')}"

    handlers.transform_fn = transform_fn
    model = ScriptModel(model=None, handlers=handlers)

    [outcome] = invoke_batch(model, [Call(b"x", "text/plain", "text/plain", "k=v")])

    assert outcome.body == b"k=v|text/plain"
    assert outcome.custom_attributes == ""  # the handlers set none: none go back


def test_the_default_handlers_answer_no_attributes(sklearn_model) -> None:
    [outcome] = invoke_batch(
        sklearn_model, [Call(npy(ROWS), "application/x-npy", "application/json", "trace=1")]
    )

    assert outcome.ok and outcome.custom_attributes == ""


def test_attributes_the_handlers_answer_must_keep_the_rule() -> None:
    handlers = ModuleType("handlers")

    def transform_fn(model, data, content_type, accept, context):
        context.set_response_header(0, CUSTOM_ATTRIBUTES_HEADER, "x" * 1025)
        return b"ok"

    handlers.transform_fn = transform_fn

    [outcome] = invoke_batch(
        ScriptModel(model=None, handlers=handlers), [Call(b"1", "text/csv", "")]
    )

    assert not outcome.ok and "CustomAttributes" in outcome.error and "1024" in outcome.error


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", None),
        ("trace_id=c000b4f9, accept_eula=true", None),
        ("x" * 1024, None),
        ("x" * 1025, "length less than or equal to 1024"),
        ("caf\u00e9", "visible US-ASCII"),
        ("a\r\nSet-Cookie: x", "visible US-ASCII"),
    ],
)
def test_the_custom_attributes_rule(value: str, problem: str | None) -> None:
    found = custom_attributes_problem(value)
    assert found is None if problem is None else problem in found
