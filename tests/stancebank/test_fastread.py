"""The Arrow reader (stancebank.fastread) gives exactly the careful reader's tables, or steps aside.

Whatever the files hold, either the fast path returns ``None`` (and the careful reader, which names
file, line and field, takes over) or its five tables equal the careful reader's cell for cell, and the
careful reader found nothing to report.
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.errors import UnreadableInputError
from stancebank.corpus import data_files, read_corpus
from stancebank.fastread import read_tables
from tests.corpus_factory import base_records, write_records

ROOT = Path(__file__).resolve().parents[2]
Records = dict[str, list[dict[str, Any]]]


def both_ways(root: Path) -> tuple[dict[str, pd.DataFrame] | None, Any]:
    """(fast tables or None, careful Corpus or the UnreadableInputError it raised)."""
    fast = read_tables(data_files([root]))
    try:
        careful: Any = read_corpus([root], fast=False)
    except UnreadableInputError as exc:
        careful = exc
    if fast is not None:
        assert not isinstance(careful, Exception), (
            f"fast path read what the careful reader refuses: {careful}"
        )
        assert careful.failures == [] and not careful.blanked
        for name, frame in careful.tables.items():
            pd.testing.assert_frame_equal(fast[name], frame, check_exact=True)
    return fast, careful


def test_the_shipped_corpus_takes_the_fast_path_and_reads_the_same() -> None:
    fast, careful = both_ways(ROOT / "data")
    assert fast is not None
    assert len(fast["spans"]) == len(careful.tables["spans"]) > 1000


def test_read_corpus_uses_the_fast_path_by_default(tmp_path: Path) -> None:
    write_records(tmp_path, base_records())
    corpus = read_corpus([tmp_path])
    assert corpus.tables["spans"]["_line"].tolist() == [1, 1, 1, 1]
    assert corpus.tables["spans"]["article_id"].tolist() == ["a1"] * 4


def _lines(path: Path, edit: Callable[[list[str]], list[str]]) -> None:
    path.write_text("".join(edit(path.read_text(encoding="utf-8").splitlines(keepends=True))), "utf-8")


def test_blank_lines_and_crlf_keep_the_line_numbers(tmp_path: Path) -> None:
    write_records(tmp_path, base_records())
    _lines(tmp_path / "articles.jsonl", lambda ls: ["\n", "  \n", ls[0].replace("\n", "\r\n"), "\n", *ls[1:]])
    fast, _ = both_ways(tmp_path)
    assert fast is not None
    assert fast["articles"]["_line"].tolist() == [3, 5]


def test_metadata_of_any_shape_is_read_exactly(tmp_path: Path) -> None:
    records = copy.deepcopy(base_records())
    records["articles"][0]["metadata"] = {"split": "train", "n": [{"x": None}], "score": 1}
    records["articles"][1]["metadata"] = {"other": True, "score": 2.5}
    records["annotations"][0]["metadata"] = {"original_label": "agree"}
    records["annotations"][0]["spans"][0]["metadata"] = {"score": 4.5}
    records["annotations"][0]["unannotated"] = ["stance"]
    write_records(tmp_path, records)
    fast, _ = both_ways(tmp_path)
    assert fast is not None
    assert fast["articles"]["metadata"].tolist()[0] == {"split": "train", "n": [{"x": None}], "score": 1}
    assert fast["spans"]["metadata"].tolist() == [{"score": 4.5}, None, None, None]


def _raw(table: str, text: str) -> Callable[[Path], None]:
    """Append a raw line to a table's file."""
    names = {"articles": "articles.jsonl", "annotations": "annotations/amira.jsonl"}

    def edit(root: Path) -> None:
        with (root / names[table]).open("a", encoding="utf-8", newline="") as handle:
            handle.write(text)

    return edit


def _record(change: Callable[[Records], None]) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        records = copy.deepcopy(base_records())
        change(records)
        write_records(root, records)

    return edit


def _bytes(name: str, data: bytes) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        (root / name).write_bytes(data)

    return edit


# (case, edit of a valid corpus, what the careful reader says: a reader failure rule or an error text)
IRREGULAR: list[tuple[str, Callable[[Path], None], str]] = [
    ("a null line after objects", _raw("articles", "null\n"), "wrong_type"),
    ("a number line", _raw("articles", "5\n"), "wrong_type"),
    ("two objects on one line", _raw("articles", '{"article_id": "x"} {"article_id": "y"}\n'), "Extra data"),
    ("a truncated line", _raw("annotations", '{"annotation_id": "x", \n'), "invalid JSON"),
    ("spans null", _record(lambda r: r["annotations"][0].update(spans=None)), "wrong_type"),
    ("a null span", _record(lambda r: r["annotations"][0]["spans"].append(None)), "wrong_type"),
    ("offset 3.0", _record(lambda r: r["annotations"][0]["spans"][0].update(start=3.0)), "wrong_type"),
    ("offset true", _record(lambda r: r["annotations"][0]["spans"][0].update(end=True)), "wrong_type"),
    ("offset as text", _record(lambda r: r["annotations"][0]["spans"][0].update(end="9")), "wrong_type"),
    ("number as title", _record(lambda r: r["articles"][0].update(title=7)), "wrong_type"),
    ("synthetic as 1", _record(lambda r: r["articles"][0].update(synthetic=1)), "wrong_type"),
    ("unknown field", _record(lambda r: r["articles"][0].update(colour="red")), "unknown_field"),
    ("unknown span field", _record(lambda r: r["annotations"][0]["spans"][1].update(x=1)), "unknown_field"),
    ("metadata a string", _record(lambda r: r["articles"][1].update(metadata="x")), "wrong_type"),
    (
        "span metadata a list",
        _record(lambda r: r["annotations"][0]["spans"][1].update(metadata=[])),
        "wrong_type",
    ),
    (
        "unannotated a string",
        _record(lambda r: r["annotations"][0].update(unannotated="stance")),
        "wrong_type",
    ),
    ("a BOM", _bytes("targets.jsonl", b"\xef\xbb\xbf" + b'{"target_id": "t"}\n'), "byte-order mark"),
    ("not UTF-8", _bytes("targets.jsonl", b'{"target_id": "t\xff"}\n'), "not UTF-8"),
    ("an empty file", _bytes("targets.jsonl", b"\n \n"), "file is empty"),
    ("a lone surrogate", _bytes("targets.jsonl", b'{"target_id": "\\ud800"}\n'), "half of a surrogate pair"),
    (
        "metadata of changing shape",
        _record(lambda r: r["articles"][0].update(metadata={"n": [1, {"x": None}]})),
        "",
    ),
]


@pytest.mark.parametrize(("edit", "says"), [c[1:] for c in IRREGULAR], ids=[c[0] for c in IRREGULAR])
def test_irregular_files_go_to_the_careful_reader(
    tmp_path: Path, edit: Callable[[Path], None], says: str
) -> None:
    write_records(tmp_path, base_records())
    edit(tmp_path)
    fast, careful = both_ways(tmp_path)
    assert fast is None
    if isinstance(careful, Exception):
        assert says in str(careful)
    elif says:
        assert says in {f.rule for f in careful.failures}


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False)
    | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=5,
)
PLACES = st.sampled_from(["article", "annotation", "span", "relation"])
KEYS = {
    "article": ["article_id", "text", "url", "synthetic", "metadata", "extra"],
    "annotation": ["annotation_id", "ls_task_id", "related", "unannotated", "metadata", "spans", "extra"],
    "span": ["id", "start", "end", "text", "stance", "metadata", "extra"],
    "relation": ["type", "from_id", "extra"],
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(PLACES, st.data()), min_size=1, max_size=3), blank=st.booleans())
def test_any_json_value_anywhere_reads_the_same_or_falls_back(
    edits: list[tuple[str, Any]], blank: bool
) -> None:
    records = copy.deepcopy(base_records())
    for place, data in edits:
        key = data.draw(st.sampled_from(KEYS[place]))
        value = data.draw(JSON)
        annotation = records["annotations"][0]
        nested = {"span": "spans", "relation": "relations"}.get(place)
        if place == "article":
            records["articles"][0][key] = value
        elif nested is None:
            annotation[key] = value
        elif isinstance(annotation.get(nested), list) and annotation[nested]:
            item = annotation[nested][0]
            if isinstance(item, dict):
                item[key] = value
    with tempfile.TemporaryDirectory() as tmp:
        root = write_records(Path(tmp), records)
        if blank:
            _lines(root / "annotations" / "amira.jsonl", lambda ls: ["\r\n", *ls, "\n"])
        both_ways(root)
