"""Rules that need more than one table: foreign keys, offsets against the article text, relation ends.

:func:`joined_tables` builds one frame per rule family by joining a base table to what it points at;
the frame keeps the base table's index, so every failure maps back to the row (file, line) it came from.
The article side (texts, id indexes, target -> article) is built once by :func:`prepare_articles` and
joined to any number of annotation chunks by :func:`annotation_tables` (``validate``, ``studio pull``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow
import pyarrow.compute as pc

from schemas import vocabulary as V
from schemas.models import contradicted_attributes, missing_attributes
from schemas.offsets import ArticleTexts


class TargetLinks(pa.DataFrameModel):
    """targets ⋈ articles."""

    @pa.dataframe_check(ignore_na=False)
    @classmethod
    def target_article_exists(cls, df: pd.DataFrame) -> pd.Series:
        return df["article_found"]


class AnnotationLinks(pa.DataFrameModel):
    """annotations ⋈ articles ⋈ targets."""

    @pa.dataframe_check(ignore_na=False)
    @classmethod
    def annotation_article_exists(cls, df: pd.DataFrame) -> pd.Series:
        return df["article_found"]

    @pa.dataframe_check(ignore_na=False)
    @classmethod
    def annotation_target_exists(cls, df: pd.DataFrame) -> pd.Series:
        return df["target_article_id"].notna()

    @pa.dataframe_check(ignore_na=False)
    @classmethod
    def target_of_same_article(cls, df: pd.DataFrame) -> pd.Series:
        found = df["target_article_id"].notna()
        return ~found | (df["target_article_id"] == df["article_id"]).fillna(False).astype(bool)


def _texts(df: pd.DataFrame) -> ArticleTexts:
    texts: ArticleTexts = df.attrs["article_texts"]
    return texts


def _rows(df: pd.DataFrame) -> np.ndarray:
    return df["article_row"].to_numpy(dtype=np.int64)


def _offsets(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Starts and ends as int64 arrays, missing offsets as -1."""
    return (
        df["start"].fillna(-1).to_numpy(dtype=np.int64),
        df["end"].fillna(-1).to_numpy(dtype=np.int64),
    )


class SpanInArticle(pa.DataFrameModel):
    """spans ⋈ articles: offsets are code points, half-open, and must reproduce the span text.

    The joined frame carries each span's ``article_row`` (-1: no such article) and, in
    ``attrs["article_texts"]``, the articles' texts as an :class:`~schemas.offsets.ArticleTexts`: the
    checks slice all spans at once over Arrow buffers instead of copying the article text per span.
    """

    @pa.dataframe_check(ignore_na=False)
    @classmethod
    def span_article_exists(cls, df: pd.DataFrame) -> pd.Series:
        return pd.Series(_texts(df).usable(_rows(df)), index=df.index)

    @pa.dataframe_check(ignore_na=False)
    @classmethod
    def end_within_text(cls, df: pd.DataFrame) -> pd.Series:
        rows, texts = _rows(df), _texts(df)
        usable = texts.usable(rows)
        length = np.where(usable, texts.lengths[np.where(usable, rows, 0)], -1)
        _, ends = _offsets(df)
        return pd.Series(~usable | (ends < 0) | (ends <= length), index=df.index)

    @pa.dataframe_check(ignore_na=False)
    @classmethod
    def span_text_matches_article(cls, df: pd.DataFrame) -> pd.Series:
        starts, ends = _offsets(df)
        equal = _texts(df).slices_equal(_rows(df), starts, ends, df["text"])
        return pd.Series(equal, index=df.index)

    @pa.dataframe_check(ignore_na=False)
    @classmethod
    def span_splits_crlf(cls, df: pd.DataFrame) -> pd.Series:
        """Neither offset may fall between the CR and the LF of a CRLF line end."""
        rows, texts = _rows(df), _texts(df)
        starts, ends = _offsets(df)
        return pd.Series(~(texts.splits_crlf(rows, starts) | texts.splits_crlf(rows, ends)), index=df.index)


class SpanAttributes(pa.DataFrameModel):
    """spans ⋈ annotations: attributes required by the label, unless the annotation declares them
    unannotated (and then they must stay unset)."""

    @pa.dataframe_check(ignore_na=False)
    @classmethod
    def attribute_required(cls, df: pd.DataFrame) -> pd.Series:
        """Every attribute of a span's label is set, except those its annotation declares unannotated."""
        return ~missing_attributes(df).any(axis=1)

    @pa.dataframe_check(ignore_na=False)
    @classmethod
    def unannotated_attribute_set(cls, df: pd.DataFrame) -> pd.Series:
        return ~contradicted_attributes(df).any(axis=1)


class RelationEnds(pa.DataFrameModel):
    """relations ⋈ spans (twice, within the same annotation)."""

    @pa.dataframe_check(ignore_na=False)
    @classmethod
    def relation_from_exists(cls, df: pd.DataFrame) -> pd.Series:
        return df["from_label"].notna()

    @pa.dataframe_check(ignore_na=False)
    @classmethod
    def relation_to_exists(cls, df: pd.DataFrame) -> pd.Series:
        return df["to_label"].notna()

    @pa.dataframe_check(ignore_na=False)
    @classmethod
    def relation_direction(cls, df: pd.DataFrame) -> pd.Series:
        """``source_of`` runs SOURCE→CLAIM and ``cue_of`` CUE→CLAIM, nothing else."""
        return by_distinct(df, ["type", "from_label", "to_label"], _runs_the_right_way)


#: Relation type -> (label of its head span, label of its tail span).
_ENDS = {kind.value: (ends[0].value, ends[1].value) for kind, ends in V.RELATION_ENDPOINTS.items()}


def _runs_the_right_way(kind: Any, head: Any, tail: Any) -> bool:
    """A relation of a known type between two spans found runs from its head label to its tail label
    (a missing span or an unknown type is another rule's failure)."""
    ends = _ENDS.get(kind) if isinstance(kind, str) else None
    return ends is None or head is None or tail is None or (head, tail) == ends


def by_distinct(df: pd.DataFrame, columns: list[str], judge: Callable[..., bool]) -> pd.Series:
    """``judge(*values)`` of every row's ``columns`` (a missing value as None), called once per distinct
    combination of values: a chunk's 140,000 relations hold a handful of (type, from label, to label)."""
    combined = np.zeros(len(df), dtype=np.int64)
    factorized = [pd.factorize(df[column]) for column in columns]
    for codes, values in factorized:  # kept below the rows' count squared: one factorize per column
        combined = pd.factorize(combined * (len(values) + 1) + (codes + 1))[0]
    _, first = np.unique(combined, return_index=True)
    verdicts = np.array(
        [
            judge(*(None if codes[row] < 0 else values[codes[row]] for codes, values in factorized))
            for row in first.tolist()
        ],
        dtype=bool,
    )
    return pd.Series(verdicts[combined], index=df.index)


def _found(keys: pd.Series, pool: pd.Index) -> pd.Series:
    """Whether each key is in ``pool`` (a hash lookup; ``isin`` loops over an Arrow pool in Python)."""
    return pd.Series(rows_of(pool, keys) >= 0, index=keys.index)


def rows_of(pool: pd.Index, keys: pd.Series) -> np.ndarray:
    """Position of each key in ``pool``, which holds each value once (-1: not there). The callers'
    pools are ids the rules keep unique (pandas refuses repeats; Arrow would take the first). Arrow-backed
    text is looked up in an Arrow hash table, built per call, rather than through pandas' index engine
    (about three times slower at the article ids of a chunk of spans)."""
    if pool.dtype == "string" and keys.dtype == "string":
        values = pyarrow.array(pool, pyarrow.string(), from_pandas=True)
        return positions_in(values, pyarrow.array(keys, pyarrow.string(), from_pandas=True))
    indexed: np.ndarray = cast(Any, pool).get_indexer(keys)
    return indexed


def positions_in(values: pyarrow.Array, keys: pyarrow.Array | pyarrow.ChunkedArray) -> np.ndarray:
    """``pc.index_in(keys, value_set=values)`` as positions (-1: not there), each run of equal keys
    looked up once: the spans and relations of an annotation follow each other and share its ids, so a
    chunk's 200,000 span rows hold about 20,000 runs of article ids."""
    if isinstance(keys, pyarrow.ChunkedArray):
        keys = keys.combine_chunks()
    starts = np.ones(len(keys), dtype=bool)
    if len(keys) > 1:  # a key unlike the one before it (a missing key is unlike every key)
        unlike = pc.not_equal(keys[1:], keys[:-1]).fill_null(True)
        starts[1:] = unlike.to_numpy(zero_copy_only=False)
    heads = np.flatnonzero(starts)
    found = pc.index_in(keys.take(heads), value_set=values).fill_null(-1).to_numpy(zero_copy_only=False)
    return cast(np.ndarray, np.repeat(found, np.diff(np.append(heads, len(keys)))))


@dataclass(frozen=True)
class ArticleSide:
    """What the rules on annotations, spans and relations look up in the articles and targets: built
    once by :func:`prepare_articles` and reused for every chunk of annotations (:func:`annotation_tables`).

    In memory: the article texts (Arrow buffers plus per-text offsets), an index of article ids and a
    target id -> article id map; nothing per annotation.
    """

    #: Every article id present (the pool of ``annotation_article_exists``).
    article_ids: pd.Index
    #: Article ids of the first row with each id: position = row of :attr:`texts`.
    first_article_ids: pd.Index
    texts: ArticleTexts
    #: target id -> its article id (first row with the id).
    target_article: pd.Series
    #: targets ⋈ articles (the TargetLinks family), indexed like the targets table.
    target_links: pd.DataFrame


def prepare_articles(articles: pd.DataFrame, targets: pd.DataFrame) -> ArticleSide:
    """The article and target side of the cross-table rules, built once."""
    article_ids = pd.Index(articles["article_id"].dropna().unique())
    first_articles = articles.drop_duplicates("article_id")
    return ArticleSide(
        article_ids=article_ids,
        first_article_ids=pd.Index(first_articles["article_id"]),
        texts=ArticleTexts(first_articles["text"]),
        target_article=targets.drop_duplicates("target_id").set_index("target_id")["article_id"],
        target_links=targets.assign(article_found=_found(targets["article_id"], article_ids)),
    )


def annotation_tables(
    side: ArticleSide, annotations: pd.DataFrame, spans: pd.DataFrame, relations: pd.DataFrame
) -> dict[str, tuple[str, pd.DataFrame]]:
    """The rule families on annotations, spans and relations (all but TargetLinks), joined to the
    prepared article side. Exact for any set of annotation rows that holds every row of each of its
    annotation ids (the span and relation lookups are keyed by annotation id)."""
    annotation_links = annotations.assign(
        article_found=_found(annotations["article_id"], side.article_ids),
        target_article_id=annotations["target_id"].map(side.target_article),
    )

    span_in_article = spans.assign(article_row=rows_of(side.first_article_ids, spans["article_id"]))
    span_in_article.attrs["article_texts"] = side.texts

    span_label = spans.drop_duplicates(["annotation_id", "span_id"]).set_index(["annotation_id", "span_id"])[
        "label"
    ]

    def label_of(column: str) -> pd.Series:
        keys = pd.MultiIndex.from_arrays([relations["annotation_id"], relations[column]])
        return pd.Series(span_label.reindex(keys).to_numpy(), index=relations.index)

    declared = pd.Series(None, index=spans.index, dtype=object)
    if annotations["unannotated"].notna().any():
        last = annotations.drop_duplicates("annotation_id", keep="last")
        rows = pd.Index(last["annotation_id"]).get_indexer(spans["annotation_id"])
        values = np.concatenate([last["unannotated"].to_numpy(dtype=object), np.array([None], dtype=object)])
        declared[:] = values[rows]  # row -1 (no such annotation) takes the None appended last
    span_attributes = spans.assign(unannotated=declared)  # a Series of lists stays a Series of lists

    relation_ends = relations.assign(from_label=label_of("from_id"), to_label=label_of("to_id"))
    return {
        "AnnotationLinks": ("annotations", annotation_links),
        "SpanInArticle": ("spans", span_in_article),
        "SpanAttributes": ("spans", span_attributes),
        "RelationEnds": ("relations", relation_ends),
    }


def joined_tables(
    tables: dict[str, pd.DataFrame], side: ArticleSide | None = None
) -> dict[str, tuple[str, pd.DataFrame]]:
    """Rule family -> (base table name, joined frame indexed like the base table). ``side``: the
    article side already prepared from these tables' articles and targets (else built here)."""
    side = side or prepare_articles(tables["articles"], tables["targets"])
    return {
        "TargetLinks": ("targets", side.target_links),
        **annotation_tables(side, tables["annotations"], tables["spans"], tables["relations"]),
    }


CROSS_TABLE_MODELS: dict[str, type[pa.DataFrameModel]] = {
    "TargetLinks": TargetLinks,
    "AnnotationLinks": AnnotationLinks,
    "SpanInArticle": SpanInArticle,
    "SpanAttributes": SpanAttributes,
    "RelationEnds": RelationEnds,
}
