"""The linker: which SOURCE and CUE spans attribute which CLAIM (``source_of``, ``cue_of``).

A logistic regression over candidate pairs (a SOURCE or CUE and a CLAIM at most ``window`` sentences
apart): kind, order (before, after, inside), distance in tokens and sentences, how many other claims and
heads of the same kind lie between, the head's rank by distance among its kind, quotation marks between,
whether the claim is quoted, the head's words and lexicon marks, the word before the claim. Decoding: a
claim gets its most probable SOURCE if that pair's probability ≥ ``threshold``; every CUE whose pair
reaches the threshold is linked (a claim can be hedged and attributed at once).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from annotate.matching import Span
from schemas import vocabulary as V
from train.attribution.features import lexicon_marks
from train.attribution.tokens import QUOTES, Doc, token_range

SOURCE, CUE, CLAIM = (label.value for label in V.SpanLabel)
RELATION_OF = {SOURCE: V.RelationType.SOURCE_OF.value, CUE: V.RelationType.CUE_OF.value}


class _Ref(NamedTuple):
    span: Span
    first: int
    last: int  # exclusive token index


def _bucket(n: int) -> str:
    return str(n) if n < 3 else "3-5" if n < 6 else "6-10" if n < 11 else "11-20" if n < 21 else "21+"


def _refs(doc: Doc, spans: Sequence[Span]) -> list[_Ref]:
    refs = []
    for span in spans:
        found = token_range(doc, span.start, span.end)
        if found is not None:
            refs.append(_Ref(span, *found))
    return refs


def candidates(
    doc: Doc, spans: Sequence[Span], *, window: int = 1
) -> tuple[list[tuple[Span, Span]], list[dict[str, Any]]]:
    """Every (head, claim) pair at most ``window`` sentences apart, and its features."""
    refs = _refs(doc, spans)
    claims = [r for r in refs if r.span.label == CLAIM]
    heads = [r for r in refs if r.span.label in RELATION_OF]
    if not claims or not heads:
        return [], []
    lower = [w.lower() for w in doc.words]
    marks = lexicon_marks(lower)
    quote_at = np.cumsum([0] + [w in QUOTES for w in doc.words])
    quoted = {c.span: sum(doc.in_quote[c.first : c.last]) * 2 > c.last - c.first for c in claims}
    pairs: list[tuple[Span, Span]] = []
    rows: list[dict[str, Any]] = []
    for claim in claims:
        near = [h for h in heads if abs(doc.sentence[h.first] - doc.sentence[claim.first]) <= window]
        by_kind: dict[str, list[_Ref]] = {}
        for head in sorted(near, key=lambda h: _distance(h, claim)):
            by_kind.setdefault(head.span.label, []).append(head)
        for kind, ranked in by_kind.items():
            for rank, head in enumerate(ranked):
                pairs.append((head.span, claim.span))
                rows.append(
                    _features(doc, lower, marks, quote_at, quoted, claims, heads, head, claim, kind, rank)
                )
    return pairs, rows


def _distance(head: _Ref, claim: _Ref) -> int:
    if head.last <= claim.first:
        return claim.first - head.last
    if claim.last <= head.first:
        return head.first - claim.last
    return 0


def _features(
    doc: Doc,
    lower: list[str],
    marks: list[str],
    quote_at: np.ndarray,
    quoted: dict[Span, bool],
    claims: list[_Ref],
    heads: list[_Ref],
    head: _Ref,
    claim: _Ref,
    kind: str,
    rank: int,
) -> dict[str, Any]:
    if head.last <= claim.first:
        order, lo, hi = "before", head.last, claim.first
    elif claim.last <= head.first:
        order, lo, hi = "after", claim.last, head.first
    elif claim.first <= head.first and head.last <= claim.last:
        order, lo, hi = "inside", head.first, head.first
    else:
        order, lo, hi = "overlap", head.first, head.first
    between = lambda refs: sum(lo <= r.first and r.last <= hi for r in refs)  # noqa: E731
    sentences = _bucket(abs(doc.sentence[head.first] - doc.sentence[claim.first]))
    words = " ".join(lower[head.first : head.last])
    head_marks = "|".join(sorted({m for m in marks[head.first : head.last] if m}))
    f: dict[str, Any] = {
        "bias": 1.0,
        "kind": kind,
        "order": f"{kind}|{order}",
        "sent": f"{kind}|{sentences}",
        "order_sent": f"{kind}|{order}|{sentences}",
        "gap": f"{kind}|{_bucket(hi - lo)}",
        "rank": f"{kind}|{min(rank, 3)}",
        "rank_order": f"{kind}|{order}|{min(rank, 3)}",
        "claims_between": f"{kind}|{_bucket(between(claims))}",
        "heads_between": f"{kind}|{_bucket(between([r for r in heads if r.span.label == kind]))}",
        "quote_between": f"{kind}|{bool(quote_at[hi] - quote_at[lo])}",
        "claim_quoted": f"{kind}|{order}|{quoted[claim.span]}",
        "head_lex": f"{kind}|{head_marks}",
        "before_claim": lower[claim.first - 1] if claim.first else "<doc>",
        "after_head": lower[head.last] if head.last < len(lower) else "</doc>",
    }
    if kind == CUE:
        f["cue"] = words
    f["head_len"] = f"{kind}|{_bucket(head.last - head.first)}"
    return f


class Linker(BaseEstimator):
    """Logistic regression over candidate (head, claim) pairs."""

    def __init__(self, *, C: float = 1.0, window: int = 1, threshold: float = 0.5) -> None:
        self.C = C
        self.window = window
        self.threshold = threshold

    def fit(
        self,
        docs: Sequence[Doc],
        spans: Sequence[Sequence[Span]],
        relations: Sequence[set[tuple[str, str, str]]],
    ) -> Linker:
        """``relations`` per document: (type, from_id, to_id)."""
        rows: list[dict[str, Any]] = []
        y: list[int] = []
        for doc, doc_spans, edges in zip(docs, spans, relations, strict=True):
            pairs, features = candidates(doc, doc_spans, window=self.window)
            rows += features
            y += [(RELATION_OF[h.label], h.span_id, c.span_id) in edges for h, c in pairs]
        self.vectorizer_ = DictVectorizer()
        self.classes_ = np.array(sorted(set(y)))
        self.model_: LogisticRegression | None = None
        if len(self.classes_) == 2:
            self.model_ = LogisticRegression(C=self.C, max_iter=2000)
            self.model_.fit(self.vectorizer_.fit_transform(rows), np.array(y, dtype=int))
        else:
            self.vectorizer_.fit(rows or [{"bias": 1.0}])
            self.constant_ = bool(y and y[0])
        return self

    def link(self, doc: Doc, spans: Sequence[Span]) -> list[tuple[str, str, str, float]]:
        """Predicted relations (type, from_id, to_id, probability) between ``spans`` of ``doc``."""
        check_is_fitted(self)
        pairs, rows = candidates(doc, spans, window=self.window)
        if not pairs:
            return []
        if self.model_ is None:
            probability = np.full(len(pairs), 1.0 if self.constant_ else 0.0)
        else:
            probability = self.model_.predict_proba(self.vectorizer_.transform(rows))[:, 1]
        best_source: dict[str, tuple[float, Span]] = {}
        out: list[tuple[str, str, str, float]] = []
        for (head, claim), p in zip(pairs, probability, strict=True):
            if p < self.threshold:
                continue
            if head.label == CUE:
                out.append((RELATION_OF[CUE], head.span_id, claim.span_id, float(p)))
            elif p > best_source.get(claim.span_id, (-1.0, head))[0]:
                best_source[claim.span_id] = (float(p), head)
        for claim_id, (p, head) in best_source.items():
            out.append((RELATION_OF[SOURCE], head.span_id, claim_id, p))
        return sorted(out)
