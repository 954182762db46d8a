"""Rules that need more than one table: foreign keys, offsets against the article text, relation ends.

:func:`joined_tables` builds one frame per rule family by joining a base table to what it points at;
the frame keeps the base table's index, so every failure maps back to the row (file, line) it came from.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pandera.pandas as pa

from schemas import vocabulary as V
from schemas.models import contradicted_attributes, missing_attributes


class TargetLinks(pa.DataFrameModel):
    """targets ⋈ articles."""

    @pa.dataframe_check
    @classmethod
    def target_article_exists(cls, df: pd.DataFrame) -> pd.Series:
        return df["article_found"]


class AnnotationLinks(pa.DataFrameModel):
    """annotations ⋈ articles ⋈ targets."""

    @pa.dataframe_check
    @classmethod
    def annotation_article_exists(cls, df: pd.DataFrame) -> pd.Series:
        return df["article_found"]

    @pa.dataframe_check
    @classmethod
    def annotation_target_exists(cls, df: pd.DataFrame) -> pd.Series:
        return df["target_article_id"].notna()

    @pa.dataframe_check
    @classmethod
    def target_of_same_article(cls, df: pd.DataFrame) -> pd.Series:
        found = df["target_article_id"].notna()
        return ~found | (df["target_article_id"] == df["article_id"]).fillna(False).astype(bool)


def _plain_columns(df: pd.DataFrame) -> tuple[list[object], list[int], list[int]]:
    """Article texts, starts and ends as plain Python lists (missing offsets as -1): looping over
    lists is several times faster than over nullable pandas columns."""
    starts = df["start"].fillna(-1).astype("int64").tolist()
    ends = df["end"].fillna(-1).astype("int64").tolist()
    return df["article_text"].tolist(), starts, ends


class SpanInArticle(pa.DataFrameModel):
    """spans ⋈ articles: offsets are code points, half-open, and must reproduce the span text."""

    @pa.dataframe_check
    @classmethod
    def span_article_exists(cls, df: pd.DataFrame) -> pd.Series:
        return df["article_text"].notna()

    @pa.dataframe_check
    @classmethod
    def end_within_text(cls, df: pd.DataFrame) -> pd.Series:
        length = df["article_text"].str.len()
        return (df["end"] <= length).fillna(True).astype(bool)

    @pa.dataframe_check
    @classmethod
    def span_text_matches_article(cls, df: pd.DataFrame) -> pd.Series:
        docs, starts, ends = _plain_columns(df)
        return pd.Series(
            [
                s < 0 or e < 0 or not isinstance(doc, str) or doc[s:e] == text
                for doc, s, e, text in zip(docs, starts, ends, df["text"].tolist(), strict=True)
            ],
            index=df.index,
            dtype=bool,
        )

    @pa.dataframe_check
    @classmethod
    def span_splits_crlf(cls, df: pd.DataFrame) -> pd.Series:
        """Neither offset may fall between the CR and the LF of a CRLF line end."""

        docs, starts, ends = _plain_columns(df)
        with_crlf = [isinstance(doc, str) and "\r\n" in doc for doc in docs]

        def splits(doc: Any, at: int) -> bool:
            return 0 < at < len(doc) and doc[at - 1 : at + 1] == "\r\n"

        return pd.Series(
            [
                not (crlf and (splits(doc, s) or splits(doc, e)))
                for doc, s, e, crlf in zip(docs, starts, ends, with_crlf, strict=True)
            ],
            index=df.index,
            dtype=bool,
        )


class SpanAttributes(pa.DataFrameModel):
    """spans ⋈ annotations: attributes required by the label, unless the annotation declares them
    unannotated (and then they must stay unset)."""

    @pa.dataframe_check
    @classmethod
    def attribute_required(cls, df: pd.DataFrame) -> pd.Series:
        """Every attribute of a span's label is set, except those its annotation declares unannotated."""
        return ~missing_attributes(df).any(axis=1)

    @pa.dataframe_check
    @classmethod
    def unannotated_attribute_set(cls, df: pd.DataFrame) -> pd.Series:
        return ~contradicted_attributes(df).any(axis=1)


class RelationEnds(pa.DataFrameModel):
    """relations ⋈ spans (twice, within the same annotation)."""

    @pa.dataframe_check
    @classmethod
    def relation_from_exists(cls, df: pd.DataFrame) -> pd.Series:
        return df["from_label"].notna()

    @pa.dataframe_check
    @classmethod
    def relation_to_exists(cls, df: pd.DataFrame) -> pd.Series:
        return df["to_label"].notna()

    @pa.dataframe_check
    @classmethod
    def relation_direction(cls, df: pd.DataFrame) -> pd.Series:
        """``source_of`` runs SOURCE→CLAIM and ``cue_of`` CUE→CLAIM, nothing else."""
        head = df["type"].map({t.value: ends[0].value for t, ends in V.RELATION_ENDPOINTS.items()})
        tail = df["type"].map({t.value: ends[1].value for t, ends in V.RELATION_ENDPOINTS.items()})
        known = df["from_label"].notna() & df["to_label"].notna() & head.notna()
        right = (df["from_label"] == head) & (df["to_label"] == tail)
        return (~known | right.fillna(False)).astype(bool)


def _found(keys: pd.Series, pool: pd.Series) -> pd.Series:
    return keys.isin(pool).astype(bool)


def joined_tables(tables: dict[str, pd.DataFrame]) -> dict[str, tuple[str, pd.DataFrame]]:
    """Rule family -> (base table name, joined frame indexed like the base table)."""
    articles, targets = tables["articles"], tables["targets"]
    annotations, spans, relations = tables["annotations"], tables["spans"], tables["relations"]
    first_articles = articles.drop_duplicates("article_id")

    target_links = targets.assign(article_found=_found(targets["article_id"], articles["article_id"]))

    target_article = targets.drop_duplicates("target_id").set_index("target_id")["article_id"]
    annotation_links = annotations.assign(
        article_found=_found(annotations["article_id"], articles["article_id"]),
        target_article_id=annotations["target_id"].map(target_article),
    )

    article_text = first_articles.set_index("article_id")["text"]
    span_in_article = spans.assign(article_text=spans["article_id"].map(article_text))

    span_label = spans.drop_duplicates(["annotation_id", "span_id"]).set_index(["annotation_id", "span_id"])[
        "label"
    ]

    def label_of(column: str) -> pd.Series:
        keys = pd.MultiIndex.from_arrays([relations["annotation_id"], relations[column]])
        return pd.Series(span_label.reindex(keys).to_numpy(), index=relations.index)

    unannotated = dict(zip(annotations["annotation_id"], annotations["unannotated"], strict=True))
    declared = pd.Series(
        [unannotated.get(a) for a in spans["annotation_id"]], index=spans.index, dtype=object
    )
    span_attributes = spans.assign(unannotated=declared)  # a Series of lists stays a Series of lists

    relation_ends = relations.assign(from_label=label_of("from_id"), to_label=label_of("to_id"))
    return {
        "TargetLinks": ("targets", target_links),
        "AnnotationLinks": ("annotations", annotation_links),
        "SpanInArticle": ("spans", span_in_article),
        "SpanAttributes": ("spans", span_attributes),
        "RelationEnds": ("relations", relation_ends),
    }


CROSS_TABLE_MODELS: dict[str, type[pa.DataFrameModel]] = {
    "TargetLinks": TargetLinks,
    "AnnotationLinks": AnnotationLinks,
    "SpanInArticle": SpanInArticle,
    "SpanAttributes": SpanAttributes,
    "RelationEnds": RelationEnds,
}
