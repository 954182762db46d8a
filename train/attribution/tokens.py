"""Tokens, sentences and quotations of an article, and spans as BIO tags (one tag layer per label).

Offsets are Python code points, half-open, as everywhere in StanceBank. A span covers every token it
overlaps; a tagged run of tokens becomes the span from its first token's start to its last token's end.

Overlapping spans: each label has its own BIO layer (SOURCE, CUE, CLAIM), so a CUE inside a CLAIM ("a ban
was *likely* within weeks") is kept on both layers. Two spans of the *same* label that share a token
cannot both be tagged: the earlier (then the longer) one is kept and the other counted as dropped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from schemas import vocabulary as V

LABELS: tuple[str, ...] = tuple(V.values(V.SpanLabel))
_TOKEN = re.compile(r"\w+(?:[’'\-]\w+)*|[^\w\s]")
_ENDERS = frozenset(".!?…")
_OPENING = frozenset("“«„")
_CLOSING = frozenset("”»")
_STRAIGHT = frozenset('"')
QUOTES = _OPENING | _CLOSING | _STRAIGHT
#: Short words that end with a period without ending a sentence.
_ABBREVIATIONS_WORDS = (
    "mr mrs ms dr prof gen sen rep gov st jr sr col lt sgt capt cmdr adm no vs etc inc corp co ltd jan "
    "feb mar apr jun jul aug sep sept oct nov dec "
)
_ABBREVIATIONS = frozenset(_ABBREVIATIONS_WORDS.split())


@dataclass(slots=True)
class Doc:
    """An article's text cut into tokens, with each token's sentence and whether it is inside quotes."""

    text: str
    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    sentence: list[int] = field(default_factory=list)
    in_quote: list[bool] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.words)


def tokenize(text: str) -> Doc:
    """Tokens (words, punctuation marks one by one), sentences and quotation state of ``text``."""
    doc = Doc(text)
    for match in _TOKEN.finditer(text):
        doc.starts.append(match.start())
        doc.ends.append(match.end())
        doc.words.append(match.group())
    number, inside, ended = 0, False, False
    for i, word in enumerate(doc.words):
        if i and "\n" in text[doc.ends[i - 1] : doc.starts[i]]:
            number += 0 if ended else 1  # a line break ends a sentence (a heading, a list item)
            inside = False  # a quotation left open at a line break is not carried on
        doc.sentence.append(number)
        if word in _OPENING or (word in _STRAIGHT and not inside):
            doc.in_quote.append(False)
            inside = True
        elif word in _CLOSING or (word in _STRAIGHT and inside):
            doc.in_quote.append(False)
            inside = False
        else:
            doc.in_quote.append(inside)
        ended = _ends_sentence(doc, i)
        number += ended
    return doc


def _starts_sentence(word: str) -> bool:
    return word[:1].isupper() or word[:1].isdigit() or word in _OPENING or word in _STRAIGHT


def _ends_sentence(doc: Doc, i: int) -> bool:
    """Whether the sentence ends after token ``i``: an end mark (and the closing quotes or brackets right
    after it) before a token that starts with a capital, a digit or a quote, unless the mark ends an
    abbreviation or an initial."""
    words = doc.words
    if i + 1 >= len(words):
        return False
    word, following = words[i], words[i + 1]
    if word in _CLOSING or word in _STRAIGHT or word in ")]":
        return i > 0 and words[i - 1] in _ENDERS and _starts_sentence(following)
    if word not in _ENDERS:
        return False
    if following in _CLOSING or following in ")]" or (following in _STRAIGHT and doc.in_quote[i]):
        return False  # the break comes after the closing mark
    if word == "." and i and (words[i - 1].lower() in _ABBREVIATIONS or len(words[i - 1]) == 1):
        return False
    return _starts_sentence(following)


def token_range(doc: Doc, start: int, end: int) -> tuple[int, int] | None:
    """The half-open token range a character span overlaps (None when it covers no token)."""
    from bisect import bisect_left, bisect_right

    first = bisect_right(doc.ends, start)
    last = bisect_left(doc.starts, end)
    return (first, last) if first < last else None


def encode(doc: Doc, spans: Sequence[tuple[str, int, int]]) -> tuple[dict[str, list[str]], int]:
    """BIO tags per label layer for ``spans`` (label, start, end), and how many spans were dropped
    (no token, or sharing a token with a kept span of the same label)."""
    layers = {label: ["O"] * len(doc) for label in LABELS}
    dropped = 0
    for label, start, end in sorted(spans, key=lambda s: (s[1], -(s[2] - s[1]), s[0])):
        tags = layers.get(label)
        found = token_range(doc, start, end)
        if tags is None or found is None or any(t != "O" for t in tags[found[0] : found[1]]):
            dropped += 1
            continue
        tags[found[0]] = "B"
        for k in range(found[0] + 1, found[1]):
            tags[k] = "I"
    return layers, dropped


def decode(tags: Sequence[str]) -> list[tuple[int, int]]:
    """Token ranges of the tagged runs: ``B`` starts a run, ``I`` continues it (or starts one after O)."""
    runs: list[tuple[int, int]] = []
    start = None
    for i, tag in enumerate(tags):
        if tag == "B" or (tag == "I" and start is None):
            if start is not None:
                runs.append((start, i))
            start = i
        elif tag == "O" and start is not None:
            runs.append((start, i))
            start = None
    if start is not None:
        runs.append((start, len(tags)))
    return runs


def char_span(doc: Doc, first: int, last: int) -> tuple[int, int]:
    """Character offsets of the token range [first, last)."""
    return doc.starts[first], doc.ends[last - 1]
