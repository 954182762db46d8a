"""The input bounds read brackets and digits outside strings only, whatever the escapes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from schemas.errors import UnreadableInputError
from stancebank.inputs import MAX_DEPTH, check_json_bytes, parse_json_line

DEEP = b"[" * (MAX_DEPTH + 5) + b"]" * (MAX_DEPTH + 5)
CASES: list[tuple[str, bytes, str | None]] = [
    ("deep after a string ending in an escaped backslash", b'{"a": "\\\\", "b": ' + DEEP + b"}", "nested"),
    ("brackets inside a string", b'{"a": "' + b"[" * 100 + b'"}', None),
    ("brackets after an escaped quote, still in the string", b'{"a": "x\\"' + b"[" * 100 + b'"}', None),
    ("deep on line 3 only", b'{"a": 1}\n\n{"b": ' + DEEP + b"}\n", "x:3: JSON nested"),
    ("unbalanced line does not carry over", b"[" * 40 + b"\n" + b"[" * 40 + b"]" * 40 + b"\n", None),
    ("long fraction", b'{"n": 1.23456789012345678901234}', None),
    ("long exponent", b'{"n": 1e12345678901234567890}', None),
    ("digits in a string", b'{"s": "12345678901234567890123"}', None),
    ("digits in a string after an escaped quote", b'{"s": "x\\"12345678901234567890123"}', None),
    ("negative beyond 64 bits", b'{"n": -99999999999999999999}', "in field 'n' is outside 64 bits"),
    ("the 64-bit limits themselves", b'{"n": 9223372036854775807, "m": -9223372036854775808}', None),
    ("one past the limit", b'{"a": [{"n": 9223372036854775808}]}', "in field 'a[0].n'"),
]


@pytest.mark.parametrize(("data", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bounds(data: bytes, message: str | None) -> None:
    if message is None:
        check_json_bytes(Path("x"), data)
    else:
        with pytest.raises(UnreadableInputError, match=re.escape(message)):
            check_json_bytes(Path("x"), data)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"a": "open', "invalid JSON: Unterminated string starting at column 7"),
        ("not json", "invalid JSON: Expecting value at column 1"),
    ],
)
def test_invalid_json_names_the_column_once(line: str, message: str) -> None:
    with pytest.raises(UnreadableInputError) as caught:
        parse_json_line(Path("x.jsonl"), 3, line)
    assert caught.value.message == message and caught.value.line == 3
