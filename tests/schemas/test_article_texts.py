"""schemas.offsets slices every span at once over UTF-8 buffers: it must agree with Python's own
``text[start:end]`` on any text and any offsets (past the end, empty, negative = missing)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import offsets
from schemas.offsets import ArticleTexts

ALPHABET = st.sampled_from(list("ab \r\n東😀👍🏽\U00010348ü"))
TEXTS = st.lists(st.none() | st.text(alphabet=ALPHABET, max_size=12), min_size=1, max_size=5)


@st.composite
def spans(draw: st.DrawFn) -> tuple[list[str | None], list[tuple[int, int, int, str | None]]]:
    docs = draw(TEXTS)
    rows: list[tuple[int, int, int, str | None]] = []
    for _ in range(draw(st.integers(1, 12))):
        doc = draw(st.integers(-1, len(docs) - 1))
        start, end = draw(st.integers(-1, 15)), draw(st.integers(-1, 15))
        text = docs[doc] if doc >= 0 else None
        span: str | None
        if text is not None and draw(st.booleans()):
            span = text[max(start, 0) : max(end, 0)]  # often the right text …
        else:
            span = draw(st.none() | st.text(alphabet=ALPHABET, max_size=4))  # … sometimes anything
        rows.append((doc, start, end, span))
    return docs, rows


def _python_equal(docs: list[str | None], doc: int, start: int, end: int, text: str | None) -> bool:
    article = docs[doc] if doc >= 0 else None
    if article is None or start < 0 or end < 0:
        return True
    return article[start:end] == text


def _python_splits(docs: list[str | None], doc: int, at: int) -> bool:
    article = docs[doc] if doc >= 0 else None
    return article is not None and 0 < at < len(article) and article[at - 1 : at + 1] == "\r\n"


@settings(max_examples=300, deadline=None)
@given(spans(), st.sampled_from([1, 2, 50_000]), st.sampled_from([1, 3, 1 << 22]))
def test_vectorised_slices_equal_pythons(
    case: tuple[list[str | None], list[Any]], block: int, bytes_at_once: int
) -> None:
    docs, rows = case
    # blocks of one and two spans cross every block border; code points are found 1 or 3 bytes at a
    # time (a block border inside a character, too)
    offsets._BLOCK, offsets._BYTES_AT_ONCE = block, bytes_at_once
    try:
        texts = ArticleTexts(pd.Series(docs, dtype="str"))
        doc, start, end = (np.array([r[i] for r in rows], dtype=np.int64) for i in range(3))
        got = texts.slices_equal(doc, start, end, pd.Series([r[3] for r in rows], dtype="str"))
    finally:
        offsets._BLOCK, offsets._BYTES_AT_ONCE = 50_000, 1 << 22
    assert got.tolist() == [_python_equal(docs, *row) for row in rows]
    assert texts.splits_crlf(doc, start).tolist() == [_python_splits(docs, d, s) for d, s, _, _ in rows]
    assert texts.lengths.tolist() == [len(d) if d is not None else -1 for d in docs]


@given(st.text(alphabet=ALPHABET, max_size=30), st.integers(1, 7))
def test_code_points_are_found_block_by_block(text: str, bytes_at_once: int) -> None:
    raw = np.frombuffer(text.encode(), dtype=np.uint8)
    offsets._BYTES_AT_ONCE = bytes_at_once
    try:
        starts = offsets._code_point_starts(raw)
    finally:
        offsets._BYTES_AT_ONCE = 1 << 22
    expected = np.cumsum([0, *(len(c.encode()) for c in text)])[:-1] if text else []
    assert starts.tolist() == list(expected)
    assert starts.dtype == np.int32


def test_a_crlf_across_two_texts_belongs_to_neither() -> None:
    texts = ArticleTexts(pd.Series(["a\r", "\nb"], dtype="str"))
    assert texts.has_crlf.tolist() == [False, False]
    assert texts.splits_crlf(np.array([0, 1]), np.array([1, 1])).tolist() == [False, False]
