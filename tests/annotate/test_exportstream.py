"""The streaming cutter (annotate.exportstream) gives back exactly the export's tasks, in batches.

Any list of tasks, written compact or pretty (LF or CRLF), cut in blocks of any size and batches of any
size: the batches, parsed, are ``json.loads`` of the file; each batch is the file's own bytes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotate.exportstream import batches
from schemas.errors import UnreadableInputError

NASTY = st.text(alphabet=st.sampled_from(list('[]{},:"\\\n\r\t x😀é\u2028')), max_size=12)
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | NASTY,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NASTY, inner, max_size=3),
    max_leaves=8,
)
TASKS = st.lists(st.dictionaries(NASTY, VALUES, max_size=4) | VALUES, max_size=8)


def _write(tmp: Path, tasks: list[Any], indent: int | None, crlf: bool, ascii_only: bool) -> bytes:
    raw = json.dumps(tasks, indent=indent, ensure_ascii=ascii_only).encode("utf-8")
    if crlf:
        raw = raw.replace(b"\n", b"\r\n")
    (tmp / "x.export.json").write_bytes(raw)
    return raw


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    tasks=TASKS,
    indent=st.sampled_from([None, 1, 2]),
    crlf=st.booleans(),
    ascii_only=st.booleans(),
    block=st.integers(1, 64),
    size=st.integers(1, 5),
)
def test_batches_are_the_tasks_byte_for_byte(
    tmp_path: Path, tasks: list[Any], indent: int | None, crlf: bool, ascii_only: bool, block: int, size: int
) -> None:
    raw = _write(tmp_path, tasks, indent, crlf, ascii_only)
    got: list[Any] = []
    for batch in batches(tmp_path / "x.export.json", size, block=block):
        assert raw[batch.offset : batch.offset + len(batch.region)] == batch.region
        assert batch.line == raw[: batch.offset].count(b"\n") + 1
        parsed = json.loads(batch.array())
        assert len(parsed) == batch.tasks <= size
        got += parsed
    assert got == json.loads(raw)


@pytest.mark.parametrize("raw", [b"[]", b" [ \r\n ] \n", b"\n[\n]"])
def test_an_empty_array_has_no_batch(tmp_path: Path, raw: bytes) -> None:
    (tmp_path / "x.export.json").write_bytes(raw)
    assert list(batches(tmp_path / "x.export.json", block=1)) == []


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'[{"id": 1,', "the file ends inside the array (truncated at byte 10)"),
        (b'[{"id": 1, "t": "]', "the file ends inside the array (truncated at byte 18)"),
        (b'[{"a": "\\"]"}', "the file ends inside the array (truncated at byte 13)"),
        (b'{"tasks": []}', "a full JSON export is a list of tasks"),
        (b'"[1]"', "a full JSON export is a list of tasks"),
        (b"null", "a full JSON export is a list of tasks"),
        (b"", "a full JSON export is a list of tasks"),
        (b"x [1]", "a full JSON export is a list of tasks"),
        (b"[1] [2]", "text after the array at byte 4"),
        (b"[1, 2,]", "a trailing comma before byte 6"),
        (b'[{"a": 1}}]', "unbalanced '}' at byte 9"),
    ],
)
def test_a_broken_export_is_named_with_the_byte(tmp_path: Path, raw: bytes, message: str) -> None:
    path = tmp_path / "x.export.json"
    path.write_bytes(raw)
    for block in (1, 3, 1 << 20):
        with pytest.raises(UnreadableInputError) as caught:
            list(batches(path, 1, block=block))
        assert str(path) in str(caught.value) and message in str(caught.value)
