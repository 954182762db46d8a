"""What a user could run instead of ``stancebank validate``, for bench/run.py to time beside it.

    python -m bench.compare arrow|orjson|polars|pydantic DATA_DIR

- ``arrow``: the floor — Arrow's JSON reader parses the three files into tables and flattens the spans;
  no rule checked (validation cannot be faster than reading).
- ``orjson``: the floor for anything that builds Python objects: ``orjson.loads`` per line.
- ``polars``: a hand-written vectorised check of our rules with polars expressions (no pandera, no
  report, only a count of failing rows per rule); what a careful engineer would write by hand.
- ``pydantic``: per-row pydantic models, the most common way people validate JSON records, with the
  cross-record rules (unique ids, foreign keys) in Python sets.

Each prints the number of failures it found (0 on a valid corpus), so a run that checks nothing shows.
"""

from __future__ import annotations

import io
import re
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

ID = r"^[A-Za-z0-9_][A-Za-z0-9._:\-]*$"
REGION_ID = r"^[A-Za-z0-9_\-][A-Za-z0-9._:\-]*$"


def _files(root: Path) -> tuple[Path, Path, list[Path]]:
    return root / "articles.jsonl", root / "targets.jsonl", sorted((root / "annotations").glob("*.jsonl"))


def arrow(root: Path) -> int:
    import pyarrow.compute as pc
    import pyarrow.json as pj

    articles, targets, annotations = _files(root)
    rows = pj.read_json(articles).num_rows + pj.read_json(targets).num_rows
    for path in annotations:
        table = pj.read_json(path)
        rows += len(pc.list_flatten(table.column("spans"))) + len(pc.list_flatten(table.column("relations")))
    print(f"rows {rows}")
    return 0


def orjson_lines(root: Path) -> int:
    import orjson

    articles, targets, annotations = _files(root)
    count = 0
    for path in [articles, targets, *annotations]:
        count += len([orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()])
    print(f"records {count}")
    return 0


def _vocabulary() -> dict[str, list[str]]:
    from schemas import vocabulary as V

    return {
        "label": V.values(V.SpanLabel),
        "type": V.values(V.RelationType),
        "reliability_outlet": V.values(V.Reliability),
        **{name: V.values(values) for name, values in V.ATTRIBUTE_VALUES.items()},
    }


def polars_check(root: Path) -> int:
    import polars as pl
    import pycountry

    from schemas import vocabulary as V

    voc = _vocabulary()
    languages = [lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2")]
    articles_path, targets_path, annotation_paths = _files(root)
    text = pl.String
    articles = pl.read_ndjson(
        articles_path,
        infer_schema_length=None,
        schema_overrides={c: text for c in ("url", "published", "outlet")},
    )
    targets = pl.read_ndjson(targets_path)
    joined = b"".join(p.read_bytes().rstrip(b"\n") + b"\n" for p in annotation_paths)  # one inferred schema
    annotations = pl.read_ndjson(io.BytesIO(joined), infer_schema_length=None)
    spans = annotations.select("annotation_id", "article_id", "spans").explode("spans").unnest("spans")
    spans = spans.with_columns([pl.col(name).cast(text) for name in V.ATTRIBUTE_LABEL])
    relations = annotations.select("annotation_id", "relations").explode("relations").unnest("relations")
    blank = lambda c: pl.col(c).is_null() | (pl.col(c).str.strip_chars().str.len_chars() == 0)  # noqa: E731
    failures: dict[str, pl.Expr] = {}
    a = {
        "article_id": ~pl.col("article_id").str.contains(ID) | pl.col("article_id").is_duplicated(),
        "blank": blank("title") | blank("text") | blank("licence"),
        "url": pl.col("url").is_not_null() & ~pl.col("url").str.contains(r"^https?://[^\s/]+[^\s]*$"),
        "published": pl.col("published").is_not_null()
        & pl.col("published").str.to_date("%Y-%m-%d", strict=False).is_null(),
        "language": ~pl.col("language").is_in(languages),
        "reliability": ~pl.col("outlet_reliability").is_in(voc["reliability_outlet"]),
        "synthetic": pl.col("synthetic").is_null(),
    }
    count = int(articles.select(pl.sum_horizontal(list(a.values())).gt(0).sum()).item())
    article_ids = articles.get_column("article_id")
    t = {
        "target_id": ~pl.col("target_id").str.contains(ID) | pl.col("target_id").is_duplicated(),
        "blank": blank("text"),
        "article": ~pl.col("article_id").is_in(article_ids.implode()),
    }
    count += int(targets.select(pl.sum_horizontal(list(t.values())).gt(0).sum()).item())
    created = pl.col("created_at").str.to_datetime(strict=False, time_zone="UTC")
    updated = pl.col("updated_at").str.to_datetime(strict=False, time_zone="UTC")
    target_article = dict(zip(targets["target_id"], targets["article_id"], strict=True))
    n = {
        "annotation_id": ~pl.col("annotation_id").str.contains(ID) | pl.col("annotation_id").is_duplicated(),
        "annotator": blank("annotator"),
        "times": created.is_null() | updated.is_null() | (updated < created),
        "guideline": ~pl.col("guideline_version").str.contains(r"^\d+\.\d+$"),
        "article": ~pl.col("article_id").is_in(article_ids.implode()),
        "target": pl.col("target_id").replace_strict(target_article, default=None) != pl.col("article_id"),
    }
    count += int(annotations.select(pl.sum_horizontal(list(n.values())).gt(0).sum()).item())
    texts = articles.select(pl.col("article_id"), pl.col("text").alias("article_text"))
    spans = spans.join(texts, on="article_id", how="left")
    attribute_checks = [
        (pl.col("label") == owner) & pl.col(name).is_null()
        | (pl.col("label") != owner) & pl.col(name).is_not_null()
        | pl.col(name).is_not_null() & ~pl.col(name).is_in(voc[name])
        for name, owner in V.ATTRIBUTE_LABEL.items()
    ]
    s = {
        "span_id": ~pl.col("id").str.contains(REGION_ID),
        "label": ~pl.col("label").is_in(voc["label"]),
        "offsets": (pl.col("start") < 0) | (pl.col("start") >= pl.col("end")),
        "length": pl.col("text").str.len_chars() != pl.col("end") - pl.col("start"),
        "blank": blank("text"),
        "article": pl.col("article_text").is_null(),
        "within": pl.col("end") > pl.col("article_text").str.len_chars(),
        "slice": pl.col("article_text").str.slice(pl.col("start"), pl.col("end") - pl.col("start"))
        != pl.col("text"),
        "crlf": pl.col("article_text").str.slice(pl.col("start") - 1, 2).eq("\r\n") & (pl.col("start") > 0)
        | pl.col("article_text").str.slice(pl.col("end") - 1, 2).eq("\r\n"),
        "unique": pl.struct("annotation_id", "id").is_duplicated(),
        "duplicate": pl.struct("annotation_id", "label", "start", "end").is_duplicated(),
        **{f"attribute{i}": check for i, check in enumerate(attribute_checks)},
    }
    count += int(spans.select(pl.sum_horizontal(list(s.values())).gt(0).sum()).item())
    labels = spans.select("annotation_id", pl.col("id").alias("end_id"), pl.col("label").alias("end_label"))
    ends = {t.value: (h.value, tl.value) for t, (h, tl) in V.RELATION_ENDPOINTS.items()}
    relations = relations.join(
        labels.rename({"end_id": "from_id", "end_label": "from_label"}),
        on=["annotation_id", "from_id"],
        how="left",
    ).join(
        labels.rename({"end_id": "to_id", "end_label": "to_label"}), on=["annotation_id", "to_id"], how="left"
    )
    r = {
        "type": ~pl.col("type").is_in(voc["type"]),
        "ends": pl.col("from_label").is_null() | pl.col("to_label").is_null(),
        "direction": pl.col("from_label")
        != pl.col("type").replace_strict({k: v[0] for k, v in ends.items()}),
        "direction_to": pl.col("to_label")
        != pl.col("type").replace_strict({k: v[1] for k, v in ends.items()}),
        "duplicate": pl.struct("annotation_id", "type", "from_id", "to_id").is_duplicated(),
    }
    count += int(relations.select(pl.sum_horizontal(list(r.values())).fill_null(True).gt(0).sum()).item())
    failures.clear()
    print(f"failing rows {count}")
    return count


def pydantic_check(root: Path) -> int:
    from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, model_validator

    from schemas import vocabulary as V

    voc = _vocabulary()
    Reliability = Literal[tuple(voc["reliability_outlet"])]  # type: ignore[valid-type]

    class Strict(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)

    class Article(Strict):
        article_id: str = Field(pattern=ID)
        title: str = Field(min_length=1)
        text: str = Field(min_length=1)
        outlet: str | None = None
        url: str | None = Field(default=None, pattern=r"^https?://[^\s/]+[^\s]*$")
        published: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")
        language: str = Field(pattern=r"^[a-z]{2}$")
        outlet_reliability: Reliability  # type: ignore[valid-type]
        synthetic: bool
        licence: str = Field(min_length=1)
        provenance: str | None = None
        metadata: dict[str, Any] | None = None

    class Target(Strict):
        target_id: str = Field(pattern=ID)
        article_id: str
        text: str = Field(min_length=1)

    class Span(Strict):
        id: str = Field(pattern=REGION_ID)
        label: Literal[tuple(voc["label"])]  # type: ignore[valid-type]
        start: int = Field(ge=0)
        end: int = Field(ge=1)
        text: str = Field(min_length=1)
        identified: Literal[tuple(voc["identified"])] | None = None  # type: ignore[valid-type]
        source_type: Literal[tuple(voc["source_type"])] | None = None  # type: ignore[valid-type]
        reliability: Literal[tuple(voc["reliability"])] | None = None  # type: ignore[valid-type]
        cue_type: Literal[tuple(voc["cue_type"])] | None = None  # type: ignore[valid-type]
        stance: Literal[tuple(voc["stance"])] | None = None  # type: ignore[valid-type]
        certainty: Literal[tuple(voc["certainty"])] | None = None  # type: ignore[valid-type]
        polarity: Literal[tuple(voc["polarity"])] | None = None  # type: ignore[valid-type]
        metadata: dict[str, Any] | None = None

        @model_validator(mode="after")
        def offsets(self, info: ValidationInfo) -> Span:
            text = (info.context or {}).get("text")
            if self.start >= self.end or len(self.text) != self.end - self.start:
                raise ValueError("offsets")
            if text is None or text[self.start : self.end] != self.text:
                raise ValueError("span text does not match the article")
            for name, owner in V.ATTRIBUTE_LABEL.items():
                if (getattr(self, name) is None) == (self.label == owner):
                    raise ValueError(f"attribute {name}")
            return self

    class Relation(Strict):
        type: Literal[tuple(voc["type"])]  # type: ignore[valid-type]
        from_id: str
        to_id: str

    class Annotation(Strict):
        annotation_id: str = Field(pattern=ID)
        article_id: str
        target_id: str
        annotator: str = Field(min_length=1)
        created_at: datetime
        updated_at: datetime
        guideline_version: str = Field(pattern=r"^\d+\.\d+$")
        config_hash: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
        ls_task_id: int | None = Field(default=None, ge=1)
        ls_annotation_id: int | None = Field(default=None, ge=1)
        spans: list[Span] = Field(default_factory=list)
        relations: list[Relation] = Field(default_factory=list)

        model_config = ConfigDict(extra="forbid", strict=False)

    articles_path, targets_path, annotation_paths = _files(root)
    failures = 0

    def valid(path: Path, model: type[BaseModel]) -> list[Any]:
        nonlocal failures
        rows = []
        for line in path.read_bytes().splitlines():
            try:
                rows.append(model.model_validate_json(line))
            except ValidationError:
                failures += 1
        return rows

    texts: dict[str, str] = {}
    for article in valid(articles_path, Article):
        failures += article.article_id in texts
        texts[article.article_id] = article.text
    target_article: dict[str, str] = {}
    for target in valid(targets_path, Target):
        failures += target.target_id in target_article or target.article_id not in texts
        target_article[target.target_id] = target.article_id
    seen: set[str] = set()
    article_of = re.compile(rb'"article_id": *"([^"]*)"')
    for path in annotation_paths:
        for line in path.read_bytes().splitlines():
            found = article_of.search(line)
            text = texts.get(found.group(1).decode()) if found else None
            try:
                annotation = Annotation.model_validate_json(line, context={"text": text})
            except ValidationError:
                failures += 1
                continue
            ids = [s.id for s in annotation.spans]
            labels = {s.id: s.label for s in annotation.spans}
            bad = (
                annotation.annotation_id in seen
                or annotation.updated_at < annotation.created_at
                or target_article.get(annotation.target_id) != annotation.article_id
                or len(set(ids)) != len(ids)
                or any(
                    (labels.get(r.from_id), labels.get(r.to_id))
                    != tuple(e.value for e in V.RELATION_ENDPOINTS[V.RelationType(r.type)])
                    for r in annotation.relations
                )
            )
            failures += bad
            seen.add(annotation.annotation_id)
    print(f"failing records {failures}")
    return failures


CHECKS = {"arrow": arrow, "orjson": orjson_lines, "polars": polars_check, "pydantic": pydantic_check}

if __name__ == "__main__":
    sys.exit(1 if CHECKS[sys.argv[1]](Path(sys.argv[2])) else 0)
