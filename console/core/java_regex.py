"""The Java regular expressions of botocore's models (``pattern``), in Python's ``re``.

AWS's models are written for ``java.util.regex``: ``\\p{L}``-style Unicode classes, ``\\p{Alnum}``,
surrogate-pair ranges and ASCII-only ``\\w``/``\\d``/``\\s``. Each is translated, none skipped, so
that every constraint of the model is checked.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata

# Java's POSIX classes, ASCII as in Java without UNICODE_CHARACTER_CLASS.
_POSIX = {
    "Alnum": "a-zA-Z0-9",
    "Alpha": "a-zA-Z",
    "Digit": "0-9",
    "Lower": "a-z",
    "Upper": "A-Z",
    "Punct": re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
    "Graph": "!-~",
    "Print": " -~",
    "Space": " \\t\\n\\x0b\\f\\r",
    "XDigit": "0-9a-fA-F",
}
# A surrogate pair range, Java's way of naming the supplementary planes inside a class.
_PAIR_RANGE = re.compile(
    r"\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})-\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})",
    re.IGNORECASE,
)
_PROPERTY = re.compile(r"\\p\{(?:Is|general_category=|gc=)?(\w+)\}")


@functools.cache
def _category_runs() -> tuple[tuple[int, int, str], ...]:
    """Every code point as runs ``(first, last, general category)``, in one pass."""
    runs: list[tuple[int, int, str]] = []
    first, current = 0, unicodedata.category("\0")
    for code in range(1, sys.maxunicode + 1):
        category = unicodedata.category(chr(code))
        if category != current:
            runs.append((first, code - 1, current))
            first, current = code, category
    runs.append((first, sys.maxunicode, current))
    return tuple(runs)


@functools.cache
def _category_ranges(category: str) -> str:
    """A character-class body of every code point in a Unicode general category (``L``, ``Lu``)."""
    merged: list[list[int]] = []
    for first, last, name in _category_runs():
        if not name.startswith(category):
            continue
        if merged and merged[-1][1] == first - 1:
            merged[-1][1] = last
        else:
            merged.append([first, last])
    if not merged:
        raise ValueError(f"no Unicode general category {category!r}")
    return "".join(f"\\U{first:08x}-\\U{last:08x}" for first, last in merged)


def _pair_to_code_point(high: str, low: str) -> int:
    return 0x10000 + ((int(high, 16) - 0xD800) << 10) + (int(low, 16) - 0xDC00)


def _supplementary_range(match: re.Match[str]) -> str:
    first, last = _pair_to_code_point(match[1], match[2]), _pair_to_code_point(match[3], match[4])
    return f"\\U{first:08x}-\\U{last:08x}"


def python_pattern(pattern: str) -> str:
    """A Java regular expression of botocore's model as Python ``re`` syntax.

    ``\\p{L}``-style classes become explicit code point ranges, ``\\p{Alnum}``-style POSIX
    classes their ASCII sets, surrogate-pair ranges the supplementary planes they name, and a
    quantified end anchor (``${1,128}``, the length that ``min``/``max`` check anyway) a plain
    ``$``.
    """
    pattern = re.sub(r"\$\{\d+(?:,\d*)?\}", "$", pattern)
    pattern = _PAIR_RANGE.sub(_supplementary_range, pattern)
    out: list[str] = []
    in_class = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        prop = _PROPERTY.match(pattern, index) if char == "\\" else None
        if prop:
            name = prop[1]
            body = _POSIX[name] if name in _POSIX else _category_ranges(name)
            out.append(body if in_class else f"[{body}]")
            index = prop.end()
            continue
        if char == "\\":
            out.append(pattern[index : index + 2])
            index += 2
            continue
        if char == "[" and not in_class:
            in_class = True
        elif char == "]" and in_class and out[-1] != "[":
            in_class = False
        out.append(char)
        index += 1
    return "".join(out)


@functools.cache
def compiled_pattern(pattern: str) -> re.Pattern[str]:
    """The model's ``pattern`` compiled with Java's meaning; ``re.ASCII`` because Java's
    ``\\w``, ``\\d`` and ``\\s`` are ASCII-only by default."""
    return re.compile(python_pattern(pattern), re.ASCII)
