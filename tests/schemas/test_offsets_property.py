"""Property tests: code-point offsets validate, UTF-16 offsets are caught whenever they differ."""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.corpus_factory import base_records, failures_of

# Astral-plane emoji, CJK, accents, CRLF and plain ASCII.
ALPHABET = st.sampled_from(list("ab c\r\n\té東京😀👍🏽\U00010348ü"))


@st.composite
def text_and_span(draw: st.DrawFn) -> tuple[str, int, int]:
    text = draw(st.text(alphabet=ALPHABET, min_size=2, max_size=40).filter(lambda t: t.strip()))
    start = draw(st.integers(0, len(text) - 1))
    end = draw(st.integers(start + 1, len(text)))
    return text, start, end


def _splits_crlf(text: str, start: int, end: int) -> bool:
    return any(0 < at < len(text) and text[at - 1 : at + 1] == "\r\n" for at in (start, end))


def _utf16(text: str, index: int) -> int:
    return len(text[:index].encode("utf-16-le")) // 2


def _failures(text: str, start: int, end: int, span_text: str) -> list[str]:
    records = copy.deepcopy(base_records())
    records["articles"][0]["text"] = text
    annotation = records["annotations"][0]
    annotation["spans"] = [
        {"id": "q1", "label": "CUE", "start": start, "end": end, "text": span_text, "cue_type": "hedge"}
    ]
    annotation["relations"] = []
    with tempfile.TemporaryDirectory() as tmp:
        return [f.rule for f in failures_of(Path(tmp), records)]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(text_and_span())
@example(("\r\na", 0, 1))  # ends between CR and LF
@example(("😀a\r\n", 1, 2))
def test_code_point_spans_validate(case: tuple[str, int, int]) -> None:
    text, start, end = case
    rules = set(_failures(text, start, end, text[start:end]))
    expected = set()
    if not text[start:end].strip():
        expected.add("span_not_blank")
    if _splits_crlf(text, start, end):
        expected.add("span_splits_crlf")
    assert rules == expected


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(text_and_span())
@example(("\r\na", 0, 1))
@example(("😀ab", 1, 3))
def test_utf16_offsets_are_caught_when_they_differ(case: tuple[str, int, int]) -> None:
    text, start, end = case
    span_text = text[start:end]
    u_start, u_end = _utf16(text, start), _utf16(text, end)
    rules = set(_failures(text, u_start, u_end, span_text)) - {"span_not_blank", "span_splits_crlf"}
    if u_end <= len(text) and text[u_start:u_end] == span_text and u_end - u_start == len(span_text):
        assert rules == set()  # the same text at other offsets: indistinguishable, and still true
    else:
        offset_rules = {"span_text_matches_article", "end_within_text", "text_length_matches_offsets"}
        assert rules and rules <= offset_rules
