"""Pandera models of the five tables: articles, targets, annotations, spans, relations.

Each check method's name is the rule name that appears in validation reports. Row-level rules live here;
rules that need two tables live in :mod:`schemas.crosstable`.

Dataframe-wide checks here and in :mod:`schemas.crosstable` say ``ignore_na=False``: every row carries
its ``_file`` and ``_line``, so pandera's default (a row null in every column passes) never applies, and
it cost a null test of the whole frame for each check.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pandas as pd
import pandera.pandas as pa
import pycountry
from pandera.typing import Series

from schemas import vocabulary as V
from schemas.dtypes import Text
from schemas.rules import UNIQUE_KEYS

_ISO_639_1 = frozenset(lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2"))
#: Patterns are matched from the start (pandera's str_matches is re.match): each ends in \Z, the end of
#: the string (``$`` would also match before a trailing line break: "a1\n" would pass as an id).
_ID_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9._:\-]*\Z"
#: Label Studio region ids are nanoids: they may start with "-" or "_".
_REGION_ID_PATTERN = r"^[A-Za-z0-9_\-][A-Za-z0-9._:\-]*\Z"
_SHA256 = r"^[0-9a-f]{64}\Z"

#: Columns every table carries to point a failure at its origin; not part of the data model.
ORIGIN_COLUMNS = ("_file", "_line")


def _non_blank(series: pd.Series) -> pd.Series:
    return series.str.strip().str.len() > 0


#: The labels that own attributes (each compared with the span labels once per check).
_OWNERS = tuple(dict.fromkeys(V.ATTRIBUTE_LABEL.values()))


def _declarations(spans: pd.DataFrame) -> list[object] | None:
    """Each span's ``unannotated`` value (its annotation's list, if joined), or None when no span has one:
    looked at once per check, not once per attribute."""
    if "unannotated" not in spans or not spans["unannotated"].notna().any():
        return None
    return spans["unannotated"].tolist()


def _declared(declarations: list[object] | None, name: str, index: pd.Index) -> pd.Series:
    """Whether each span's annotation declares ``name`` unannotated."""
    if declarations is None:
        return pd.Series(False, index=index)
    return pd.Series(
        [isinstance(names, list) and name in names for names in declarations], index=index, dtype=bool
    )


def missing_attributes(spans: pd.DataFrame) -> pd.DataFrame:
    """Boolean frame, one column per attribute: required by the span's label but not set.

    An attribute the span's annotation lists in ``unannotated`` (imported corpora that never labelled
    it) is not required.
    """
    declarations = _declarations(spans)
    owned = {owner: (spans["label"] == owner).fillna(False).astype(bool) for owner in _OWNERS}
    return pd.DataFrame(
        {
            name: owned[owner] & spans[name].isna() & ~_declared(declarations, name, spans.index)
            for name, owner in V.ATTRIBUTE_LABEL.items()
        },
        index=spans.index,
    )


def contradicted_attributes(spans: pd.DataFrame) -> pd.DataFrame:
    """Boolean frame, one column per attribute: set although the annotation declares it unannotated."""
    declarations = _declarations(spans)
    return pd.DataFrame(
        {
            name: spans[name].notna() & _declared(declarations, name, spans.index)
            for name in V.ATTRIBUTE_LABEL
        },
        index=spans.index,
    )


def foreign_attributes(spans: pd.DataFrame) -> pd.DataFrame:
    """Boolean frame, one column per attribute: set on a span of another (known) label."""
    known = spans["label"].isin(V.values(V.SpanLabel)).fillna(False).astype(bool)
    others = {owner: known & (spans["label"] != owner).fillna(True).astype(bool) for owner in _OWNERS}
    return pd.DataFrame(
        {name: others[owner] & spans[name].notna() for name, owner in V.ATTRIBUTE_LABEL.items()},
        index=spans.index,
    )


class _Table(pa.DataFrameModel):
    """Columns shared by every table: where each row came from."""

    file_: Series[Text] = pa.Field(alias="_file")
    line_: Series[pd.Int64Dtype] = pa.Field(alias="_line", ge=1)

    class Config:
        strict = True


class ArticleModel(_Table):
    """One news story."""

    article_id: Series[Text] = pa.Field(str_matches=_ID_PATTERN)

    @pa.check("article_id")
    @classmethod
    def unique_article_id(cls, series: Series[Text]) -> pd.Series:
        """Ids are unique; the first row with an id is kept as the original."""
        return ~series.duplicated(keep="first")

    title: Series[Text]
    text: Series[Text]
    outlet: Series[Text] = pa.Field(nullable=True)
    url: Series[Text] = pa.Field(nullable=True)
    published: Series[Text] = pa.Field(nullable=True)
    language: Series[Text]
    outlet_reliability: Series[Text] = pa.Field(isin=V.values(V.Reliability))
    synthetic: Series[pd.BooleanDtype]
    licence: Series[Text]
    provenance: Series[Text] = pa.Field(nullable=True)
    metadata: Series[object] = pa.Field(nullable=True)

    @pa.check("text", "title", "licence")
    @classmethod
    def non_blank(cls, series: Series[Text]) -> pd.Series:
        return _non_blank(series)

    @pa.check("url")
    @classmethod
    def valid_url(cls, series: Series[Text]) -> pd.Series:
        def ok(value: str) -> bool:
            parts = urlsplit(value)
            return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in value

        return series.map(ok).astype(bool)

    @pa.check("published")
    @classmethod
    def valid_date(cls, series: Series[Text]) -> pd.Series:
        parsed = pd.to_datetime(series, format="%Y-%m-%d", errors="coerce")
        return parsed.notna() & series.str.fullmatch(r"\d{4}-\d{2}-\d{2}")

    @pa.check("language")
    @classmethod
    def valid_language(cls, series: Series[Text]) -> pd.Series:
        return series.isin(_ISO_639_1)


class TargetModel(_Table):
    """A proposition that stance is measured against; a task is one (article, target) pair."""

    target_id: Series[Text] = pa.Field(str_matches=_ID_PATTERN)

    @pa.check("target_id")
    @classmethod
    def unique_target_id(cls, series: Series[Text]) -> pd.Series:
        """Ids are unique; the first row with an id is kept as the original."""
        return ~series.duplicated(keep="first")

    article_id: Series[Text]
    text: Series[Text]

    @pa.check("text")
    @classmethod
    def non_blank(cls, series: Series[Text]) -> pd.Series:
        return _non_blank(series)


class AnnotationModel(_Table):
    """One annotator's work on one task, with where and under which config it was made."""

    annotation_id: Series[Text] = pa.Field(str_matches=_ID_PATTERN)

    @pa.check("annotation_id")
    @classmethod
    def unique_annotation_id(cls, series: Series[Text]) -> pd.Series:
        """Ids are unique; the first row with an id is kept as the original."""
        return ~series.duplicated(keep="first")

    article_id: Series[Text]
    target_id: Series[Text]
    annotator: Series[Text]
    created_at: Series[Text]
    updated_at: Series[Text]
    guideline_version: Series[Text] = pa.Field(str_matches=r"^\d+\.\d+\Z")
    config_hash: Series[Text] = pa.Field(nullable=True, str_matches=_SHA256)
    ls_task_id: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=1)
    ls_annotation_id: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=1)

    #: Document-level labels (FNC-1 style): is the article about the target, and its stance toward it.
    related: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    doc_stance: Series[Text] = pa.Field(nullable=True, isin=V.values(V.Stance))
    #: Attributes the source corpus never labelled (e.g. ["stance", "polarity"]): not required on spans.
    unannotated: Series[object] = pa.Field(nullable=True)
    #: Original ids and labels of an imported annotation.
    metadata: Series[object] = pa.Field(nullable=True)

    @pa.check("annotator")
    @classmethod
    def non_blank(cls, series: Series[Text]) -> pd.Series:
        return _non_blank(series)

    @pa.check("unannotated")
    @classmethod
    def unannotated_known(cls, series: Series[object]) -> pd.Series:
        """A list of distinct attribute names."""

        def ok(names: object) -> bool:
            if names is None:
                return True
            return (
                isinstance(names, list)
                and all(isinstance(n, str) and n in V.ATTRIBUTE_VALUES for n in names)
                and len(set(names)) == len(names)
            )

        return series.map(ok).astype(bool)

    @pa.dataframe_check(ignore_na=False)
    @classmethod
    def doc_stance_requires_related(cls, df: pd.DataFrame) -> pd.Series:
        """A document-level stance needs ``related: true``; ``related: false`` means unrelated."""
        has_stance = df["doc_stance"].notna()
        return (~has_stance | (df["related"] == True)).fillna(False).astype(bool)  # noqa: E712

    @pa.check("created_at", "updated_at")
    @classmethod
    def valid_timestamp(cls, series: Series[Text]) -> pd.Series:
        return pd.to_datetime(series, format="ISO8601", errors="coerce", utc=True).notna()

    @pa.dataframe_check(ignore_na=False)
    @classmethod
    def updated_not_before_created(cls, df: pd.DataFrame) -> pd.Series:
        created = pd.to_datetime(df["created_at"], format="ISO8601", errors="coerce", utc=True)
        updated = pd.to_datetime(df["updated_at"], format="ISO8601", errors="coerce", utc=True)
        return (updated >= created) | created.isna() | updated.isna()


class SpanModel(_Table):
    """A SOURCE, CUE or CLAIM span: half-open code-point offsets into its article's text."""

    annotation_id: Series[Text]
    article_id: Series[Text]
    span_id: Series[Text] = pa.Field(str_matches=_REGION_ID_PATTERN)
    label: Series[Text] = pa.Field(isin=V.values(V.SpanLabel))
    start: Series[pd.Int64Dtype] = pa.Field(ge=0)
    end: Series[pd.Int64Dtype] = pa.Field(ge=1)
    text: Series[Text]
    identified: Series[Text] = pa.Field(nullable=True, isin=V.values(V.Identified))
    source_type: Series[Text] = pa.Field(nullable=True, isin=V.values(V.SourceType))
    reliability: Series[Text] = pa.Field(nullable=True, isin=V.values(V.Reliability))
    cue_type: Series[Text] = pa.Field(nullable=True, isin=V.values(V.CueType))
    stance: Series[Text] = pa.Field(nullable=True, isin=V.values(V.Stance))
    certainty: Series[Text] = pa.Field(nullable=True, isin=V.values(V.Certainty))
    polarity: Series[Text] = pa.Field(nullable=True, isin=V.values(V.Polarity))
    #: Original labels and scores of an imported span (e.g. {"score": 4.5}).
    metadata: Series[object] = pa.Field(nullable=True)

    @pa.check("text")
    @classmethod
    def span_not_blank(cls, series: Series[Text]) -> pd.Series:
        return _non_blank(series)

    @pa.dataframe_check(ignore_na=False)
    @classmethod
    def start_before_end(cls, df: pd.DataFrame) -> pd.Series:
        return (df["start"] < df["end"]).fillna(True).astype(bool)

    @pa.dataframe_check(ignore_na=False)
    @classmethod
    def text_length_matches_offsets(cls, df: pd.DataFrame) -> pd.Series:
        sane = (df["start"] >= 0) & (df["start"] < df["end"])  # else start_before_end/out_of_range
        same = df["text"].str.len() == df["end"] - df["start"]
        return (same | ~sane.fillna(False).astype(bool)).fillna(True).astype(bool)

    @pa.dataframe_check(ignore_na=False)
    @classmethod
    def attribute_forbidden(cls, df: pd.DataFrame) -> pd.Series:
        """No span carries an attribute of another label (unknown labels are reported elsewhere)."""
        return ~foreign_attributes(df).any(axis=1)

    @pa.dataframe_check(ignore_na=False)
    @classmethod
    def unique_span_id(cls, df: pd.DataFrame) -> pd.Series:
        return ~df.duplicated(list(UNIQUE_KEYS["unique_span_id"]), keep="first")

    @pa.dataframe_check(ignore_na=False)
    @classmethod
    def duplicate_span(cls, df: pd.DataFrame) -> pd.Series:
        return ~df.duplicated(list(UNIQUE_KEYS["duplicate_span"]), keep="first")


class RelationModel(_Table):
    """A typed, directed link between two spans of the same annotation."""

    annotation_id: Series[Text]
    article_id: Series[Text]
    type: Series[Text] = pa.Field(isin=V.values(V.RelationType))
    from_id: Series[Text]
    to_id: Series[Text]

    @pa.dataframe_check(ignore_na=False)
    @classmethod
    def duplicate_relation(cls, df: pd.DataFrame) -> pd.Series:
        return ~df.duplicated(list(UNIQUE_KEYS["duplicate_relation"]), keep="first")


#: Table name -> model, in the order tables are validated and reported.
TABLE_MODELS: dict[str, type[_Table]] = {
    "articles": ArticleModel,
    "targets": TargetModel,
    "annotations": AnnotationModel,
    "spans": SpanModel,
    "relations": RelationModel,
}
