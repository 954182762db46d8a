"""train.rows._contexts: each span's context (train.rows.context) and where it starts in its article."""

from __future__ import annotations

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from train.rows import CONTEXT_LIMIT, _contexts, context

#: Texts up to a few times the context's width (a short piece repeated), with and without line breaks.
_texts = st.builds(
    lambda piece, times: piece * times,
    st.text(alphabet=st.sampled_from("ab \n\t😀é"), min_size=1, max_size=40),
    st.integers(1, 3 * CONTEXT_LIMIT // 10),
)


@st.composite
def _spans(draw: st.DrawFn) -> tuple[list[str], pd.DataFrame]:
    texts = draw(st.lists(_texts, min_size=1, max_size=3))
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        row = draw(st.integers(0, len(texts) - 1))
        start = draw(st.integers(0, len(texts[row]) - 1))
        rows.append((row, start, draw(st.integers(start + 1, len(texts[row])))))
    return texts, pd.DataFrame(rows, columns=["row", "start", "end"], dtype="int64")


@given(_spans())
def test_a_context_is_the_article_lines_around_the_span_and_starts_where_it_is_found(
    given_spans: tuple[list[str], pd.DataFrame],
) -> None:
    texts, spans = given_spans
    contexts, starts = _contexts(texts, spans)
    for (row, start, end), text, at in zip(spans.itertuples(index=False), contexts, starts, strict=True):
        assert text == context(texts[row], start, end)
        assert at <= start  # the span's offset inside its context is never negative
        if not texts[row][start].isspace():  # the context starts at ``at`` and holds the span
            assert texts[row][at : at + len(text)] == text
        # where the context's first visible character is, looking from its window's left edge up to the
        # span (the definition the claims config documents for context_start)
        left = max(start - CONTEXT_LIMIT // 2, texts[row].rfind("\n", 0, start) + 1)
        before = texts[row][left:start]
        assert at == left + len(before) - len(before.lstrip())
