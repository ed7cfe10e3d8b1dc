"""The JSONPath subset SageMaker's DataProcessing filters accept, compiled once, applied per record.

Supported: ``$`` (mandatory root), ``.name``, ``.*`` / ``[*]``, ``['a','b']``, ``[n]``, ``[n,m]``,
negative indexes (``-1`` is the last element) and slices ``[s:e]``, ``[:e]``, ``[s:]``.

Semantics, decided here and tested in ``tests/batch/test_jsonpath.py``:

* **Slice ends are inclusive**, as SageMaker's documentation states: ``$[1:4]`` selects the
  elements at indexes 1, 2, 3 and 4 (CSV columns 2 to 5), not standard JSONPath's 1 to 3. A negative
  end counts from the back, also inclusively: ``$[:-2]`` drops only the last element.
* Selecting one element (``.name``, ``[n]``) yields that element; selecting several
  (``['a','b']``, ``[n,m]``, slices, ``*``) yields a container of the same kind — an object
  keeps the selected keys, an array the selected elements in the order the path names them.
  Steps after a multi-selection apply to each selected element.
* A missing key or an index outside the value is an error (:class:`PathNotFound`), as SageMaker
  treats an index beyond the joined record's size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MAX_PATH_LENGTH = 63

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
_INT = r"-?\d+"
_INDEXES = re.compile(rf"\s*{_INT}\s*(,\s*{_INT}\s*)*")
_SLICE = re.compile(rf"\s*(?P<start>{_INT})?\s*:\s*(?P<end>{_INT})?\s*")
_QUOTED = re.compile(r"""\s*(?:'(?P<single>[^']*)'|"(?P<double>[^"]*)")\s*""")


class InvalidPath(ValueError):
    """A path outside the supported subset; ``rule`` says what is wrong."""

    def __init__(self, path: str, rule: str) -> None:
        super().__init__(f"{path!r} {rule}")
        self.path = path
        self.rule = rule


class PathNotFound(LookupError):
    """The path selects something the record does not have."""


@dataclass(frozen=True)
class _Name:
    name: str


@dataclass(frozen=True)
class _Names:
    names: tuple[str, ...]


@dataclass(frozen=True)
class _Index:
    index: int


@dataclass(frozen=True)
class _Indexes:
    indexes: tuple[int, ...]


@dataclass(frozen=True)
class _Slice:
    start: int | None
    end: int | None  # inclusive


@dataclass(frozen=True)
class _Wildcard:
    pass


_Step = _Name | _Names | _Index | _Indexes | _Slice | _Wildcard
_SINGLE = (_Name, _Index)


class JSONPath:
    """A compiled path. ``JSONPath("$[1:]").apply([1, 2, 3]) == [2, 3]``."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._steps = _parse(path)

    @property
    def is_root(self) -> bool:
        """``$`` alone: the identity, which lets callers skip parsing records entirely."""
        return not self._steps

    def apply(self, value: Any) -> Any:
        return _apply(self._steps, value)

    def __repr__(self) -> str:
        return f"JSONPath({self.path!r})"


def compile_path(path: str) -> JSONPath:
    """Compile ``path``; raises :class:`InvalidPath` naming the rule it breaks."""
    return JSONPath(path)


def _parse(path: str) -> tuple[_Step, ...]:
    if len(path) > MAX_PATH_LENGTH:
        raise InvalidPath(path, f"is longer than {MAX_PATH_LENGTH} characters")
    if not path.startswith("$"):
        raise InvalidPath(path, "must start with the root '$'")
    steps: list[_Step] = []
    pos = 1
    while pos < len(path):
        char = path[pos]
        if char == ".":
            pos, step = _parse_dot(path, pos + 1)
        elif char == "[":
            close = path.find("]", pos)
            if close < 0:
                raise InvalidPath(path, f"has an unclosed '[' at character {pos + 1}")
            step = _parse_bracket(path, path[pos + 1 : close])
            pos = close + 1
        else:
            raise InvalidPath(path, f"has {char!r} at character {pos + 1}; expected '.' or '['")
        steps.append(step)
    return tuple(steps)


def _parse_dot(path: str, pos: int) -> tuple[int, _Step]:
    if path.startswith("*", pos):
        return pos + 1, _Wildcard()
    match = _NAME.match(path, pos)
    if not match:
        raise InvalidPath(path, f"needs a name or '*' after '.' at character {pos}")
    return match.end(), _Name(match.group())


def _parse_bracket(path: str, inner: str) -> _Step:
    if inner.strip() == "*":
        return _Wildcard()
    if _INDEXES.fullmatch(inner):
        indexes = tuple(int(part) for part in inner.split(","))
        return _Index(indexes[0]) if len(indexes) == 1 else _Indexes(indexes)
    if match := _SLICE.fullmatch(inner):
        start, end = match["start"], match["end"]
        return _Slice(int(start) if start else None, int(end) if end else None)
    names = _parse_names(inner)
    if names is None:
        raise InvalidPath(
            path,
            f"has an unsupported selector [{inner}]; use [n], [n,m], [s:e], [*] or ['a','b']",
        )
    for name in names:
        if "." in name or "[" in name:
            raise InvalidPath(path, f"selects {name!r}: nested bracket children are unsupported")
    return _Name(names[0]) if len(names) == 1 else _Names(names)


def _parse_names(inner: str) -> tuple[str, ...] | None:
    names = []
    for part in _split_quoted(inner):
        match = _QUOTED.fullmatch(part)
        if not match:
            return None
        names.append(match["single"] if match["single"] is not None else match["double"])
    return tuple(names)


def _split_quoted(inner: str) -> list[str]:
    """Split on commas that are outside quotes."""
    parts, current, quote = [], [], ""
    for char in inner:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == ",":
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def _apply(steps: tuple[_Step, ...], value: Any) -> Any:
    if not steps:
        return value
    step, rest = steps[0], steps[1:]
    if isinstance(step, _SINGLE):
        return _apply(rest, _select_one(step, value))
    selected = _select_many(step, value)
    if isinstance(selected, dict):
        return {key: _apply(rest, item) for key, item in selected.items()}
    return [_apply(rest, item) for item in selected]


def _select_one(step: _Name | _Index, value: Any) -> Any:
    if isinstance(step, _Name):
        return _member(value, step.name)
    return _element(value, step.index)


def _select_many(step: _Step, value: Any) -> dict[str, Any] | list[Any]:
    if isinstance(step, _Wildcard):
        if isinstance(value, dict | list):
            return value
        raise PathNotFound(f"'*' needs an object or an array, got {_kind(value)}")
    if isinstance(step, _Names):
        return {name: _member(value, name) for name in step.names}
    if isinstance(step, _Indexes):
        return [_element(value, index) for index in step.indexes]
    assert isinstance(step, _Slice)
    return _slice(value, step)


def _member(value: Any, name: str) -> Any:
    if not isinstance(value, dict):
        raise PathNotFound(f"cannot select {name!r} from {_kind(value)}")
    if name not in value:
        raise PathNotFound(f"the record has no {name!r}")
    return value[name]


def _element(value: Any, index: int) -> Any:
    if not isinstance(value, list):
        raise PathNotFound(f"cannot select [{index}] from {_kind(value)}")
    if not -len(value) <= index < len(value):
        raise PathNotFound(f"index {index} is beyond the record's {len(value)} elements")
    return value[index]


def _slice(value: Any, step: _Slice) -> list[Any]:
    if not isinstance(value, list):
        raise PathNotFound(f"cannot slice {_kind(value)}")
    size = len(value)
    start = 0 if step.start is None else _absolute(step.start, size)
    end = size - 1 if step.end is None else _absolute(step.end, size)
    return value[start : end + 1]


def _absolute(index: int, size: int) -> int:
    absolute = index + size if index < 0 else index
    if not 0 <= absolute < size:
        raise PathNotFound(f"index {index} is beyond the record's {size} elements")
    return absolute


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string"}.get(type(value), "a scalar")
