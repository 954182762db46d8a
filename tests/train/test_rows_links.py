"""train.rows.claim_links / source_links: the claims' sources and cues and the sources' claims, found by
position, equal the joins they replaced (pandas merges on (row, span id), kept here as the reference)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from train.rows import claim_links, source_links

_IDS = ["a", "b", "c", "d", "e"]


@st.composite
def _annotations(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Spans of a few rows (ids unique within a row, starts that tie) and relations between them, some
    of another type and some to ids no span has."""
    spans, relations = [], []
    for row in range(draw(st.integers(1, 3))):
        ids = draw(st.lists(st.sampled_from(_IDS), unique=True, max_size=5))
        for span_id in ids:
            label = draw(st.sampled_from(["CLAIM", "SOURCE", "CUE"]))
            spans.append((row, span_id, label, draw(st.integers(0, 2)), f"{row}/{span_id}"))
        ends = st.sampled_from([*ids, "z"])  # mostly the row's own spans, sometimes none
        for _ in range(draw(st.integers(0, 10))):
            kind = draw(st.sampled_from(["source_of", "cue_of", "other"]))
            relations.append((row, kind, draw(ends), draw(ends)))
    span_frame = pd.DataFrame(spans, columns=["row", "span_id", "label", "start", "text"])
    span_frame = span_frame.sort_values(["row", "start", "span_id"], kind="stable").reset_index(drop=True)
    relation_frame = pd.DataFrame(relations, columns=["row", "type", "from_id", "to_id"])
    return span_frame.astype({"start": "int64"}), relation_frame


def _heads(relations: pd.DataFrame, spans: pd.DataFrame, kind: str, fields: tuple[str, ...]) -> pd.DataFrame:
    chosen = relations.loc[relations["type"] == kind, ["row", "from_id", "to_id"]]
    heads = spans[["row", "span_id", *fields]].rename(columns=lambda c: c if c == "row" else f"head_{c}")
    return chosen.merge(heads, left_on=["row", "from_id"], right_on=["row", "head_span_id"], how="inner")


def _text_at(spans: pd.DataFrame, positions: np.ndarray) -> list[str | None]:
    return [None if p < 0 else spans["text"].iloc[p] for p in positions.tolist()]


@settings(max_examples=300)
@given(_annotations())
def test_a_claims_source_and_cues_are_those_of_the_joins(
    given_tables: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    spans, relations = given_tables
    claims = spans.loc[spans["label"] == "CLAIM"].reset_index(drop=True)
    claims["position"] = np.arange(len(claims))
    sources = _heads(relations, spans, "source_of", ("text",)).sort_values(["row", "to_id", "from_id"])
    sources = sources.drop_duplicates(["row", "to_id"])
    joined = claims.merge(
        sources, left_on=["row", "span_id"], right_on=["row", "to_id"], how="left", sort=False
    ).sort_values("position")
    cues = _heads(relations, spans, "cue_of", ("start", "text")).merge(
        joined[["row", "span_id", "position"]], left_on=["row", "to_id"], right_on=["row", "span_id"]
    )
    cues = cues.sort_values(["position", "head_start", "from_id"], kind="stable")

    source_of_claim, cue_claims, cue_heads = claim_links(
        spans, relations, (spans["label"] == "CLAIM").to_numpy()
    )
    assert _text_at(spans, source_of_claim) == [None if pd.isna(t) else t for t in joined["head_text"]]
    assert cue_claims.tolist() == cues["position"].tolist()
    assert _text_at(spans, cue_heads) == cues["head_text"].tolist()


@settings(max_examples=300)
@given(_annotations())
def test_a_sources_claims_are_those_of_the_joins(given_tables: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    spans, relations = given_tables
    sources = spans.loc[spans["label"] == "SOURCE"].reset_index(drop=True)
    sources["position"] = np.arange(len(sources))
    links = relations.loc[relations["type"] == "source_of", ["row", "from_id", "to_id"]]
    links = links.merge(
        sources[["row", "span_id", "position"]], left_on=["row", "from_id"], right_on=["row", "span_id"]
    )
    tails = spans[["row", "span_id", "start", "text"]].rename(
        columns=lambda c: c if c == "row" else f"claim_{c}"
    )
    own = links.merge(tails, left_on=["row", "to_id"], right_on=["row", "claim_span_id"])
    own = own.sort_values(["position", "claim_start", "claim_span_id"], kind="stable")

    linked, positions, found = source_links(spans, relations, (spans["label"] == "SOURCE").to_numpy())
    assert positions.tolist() == own["position"].tolist()
    assert _text_at(spans, found) == own["claim_text"].tolist()
    assert relations["row"].to_numpy()[linked].tolist() == own["row"].tolist()
