"""Micro-batching: concurrent requests to one instance answered by one model call.

Line-oriented bodies (``text/csv``, ``application/jsonlines``) with the same content type and
``Accept`` are joined into one body; the model gives exactly one output line per input record
(the :class:`algorithms.Model` contract), so the output is cut back into one reply per request.
Anything else, and any joined call that fails or breaks the line contract, is invoked request by
request, so that a bad request gets its own error and never fails its neighbours. Each reply is
what the model's container answers in real time (``Model.realtime_answer``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from algorithms.codecs import CONTENT_TYPES, LINE_TYPES, negotiate, split_content_type


@dataclass(frozen=True)
class Outcome:
    body: bytes = b""
    content_type: str = ""
    error: str = ""  # the model's message when it raised
    status: int = 200  # as a container would answer: 400 for input it cannot read, else 500
    custom_attributes: str = ""  # what the model set as the answer's CustomAttributes

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass(frozen=True)
class Call:
    """One request as the model sees it."""

    body: bytes
    content_type: str
    accept: str
    custom_attributes: str = ""  # the caller's, for a model that reads them (script mode)


def invoke_batch(model, calls: Sequence[Call]) -> list[Outcome]:
    """One outcome per call, in order; joins what can be joined."""
    outcomes: list[Outcome | None] = [None] * len(calls)
    groups: dict[tuple[str, str], list[int]] = {}
    for index, call in enumerate(calls):
        media_type, params = split_content_type(call.content_type)
        joinable = media_type in LINE_TYPES and not params and len(calls) > 1
        # A script reads each request's own CustomAttributes: such a request is its own call.
        joinable = joinable and not (call.custom_attributes and _reads_attributes(model))
        if joinable and response_type(model, call) in LINE_TYPES:
            groups.setdefault((media_type, call.accept), []).append(index)
        else:
            outcomes[index] = invoke_one(model, call)
    for indexes in groups.values():
        joined = _invoke_joined(model, [calls[i] for i in indexes]) if len(indexes) > 1 else None
        for position, index in enumerate(indexes):
            outcomes[index] = joined[position] if joined else invoke_one(model, calls[index])
    return outcomes  # type: ignore[return-value]


def _reads_attributes(model) -> bool:
    return getattr(model, "reads_custom_attributes", False)


def invoke_one(model, call: Call) -> Outcome:
    try:
        if call.custom_attributes and _reads_attributes(model):
            body = model.invoke(
                call.body, call.content_type, call.accept, custom_attributes=call.custom_attributes
            )
        else:
            body = model.invoke(call.body, call.content_type, call.accept)
    except Exception as exc:  # whatever the model raised is the caller's ModelError
        # The built-ins raise ValueErrors (DataError, UnsupportedContentType) for bad input.
        status = 400 if isinstance(exc, ValueError) else 500
        return Outcome(error=str(exc) or type(exc).__name__, status=status)
    # A script's handler may name the type it wrote: (body, content_type).
    content_type = getattr(body, "content_type", None) or response_type(model, call)
    attributes = getattr(body, "custom_attributes", "")
    return _answer(
        model, Outcome(body=bytes(body), content_type=content_type, custom_attributes=attributes)
    )


def _answer(model, outcome: Outcome) -> Outcome:
    realtime_answer = getattr(model, "realtime_answer", None)
    if realtime_answer is None:
        return outcome
    return replace(outcome, body=realtime_answer(outcome.body, outcome.content_type))


def response_type(model, call: Call) -> str:
    """The Content-Type of the model's answer: the negotiated type, as the model chose it."""
    if hasattr(model, "response_type"):  # a model that negotiates its own (script mode)
        try:
            return model.response_type(call.content_type, call.accept)
        except ValueError:
            return call.accept or "application/json"
    try:
        return negotiate(call.accept, call.content_type, getattr(model, "accepts", CONTENT_TYPES))
    except ValueError:
        return call.accept if call.accept and "*" not in call.accept else "application/json"


def _records(body: bytes) -> int:
    return sum(1 for line in body.split(b"\n") if line.strip())


def _invoke_joined(model, calls: Sequence[Call]) -> list[Outcome] | None:
    """The joined call's outcomes, or None when it must be redone one by one."""
    counts = [_records(call.body) for call in calls]
    if 0 in counts:
        return None
    joined = b"".join(
        call.body if call.body.endswith(b"\n") else call.body + b"\n" for call in calls
    )
    first = calls[0]
    try:
        output = model.invoke(joined, first.content_type, first.accept)
    except Exception:
        return None  # someone's request is bad: find out whose, one by one
    lines = output.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if len(lines) != sum(counts):
        return None
    content_type = response_type(model, first)
    # Attributes a script sets on a joined call (none of its requests had any) answer each one.
    attributes = getattr(output, "custom_attributes", "")
    outcomes, start = [], 0
    for count in counts:
        chunk = lines[start : start + count]
        outcome = Outcome(
            body=b"\n".join(chunk) + b"\n",
            content_type=content_type,
            custom_attributes=attributes,
        )
        outcomes.append(_answer(model, outcome))
        start += count
    return outcomes
