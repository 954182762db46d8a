"""Rows of the three dataset configs, built from validated tables (pure functions, no files)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pandas as pd

from schemas import vocabulary as V

CONTEXT_LIMIT = 600


def chosen_annotations(annotations: pd.DataFrame) -> pd.DataFrame:
    """One annotation per task: the adjudicated gold when present, else the earliest one."""
    order = annotations.assign(_gold=annotations["annotator"] != V.GOLD_ANNOTATOR).sort_values(
        ["article_id", "target_id", "_gold", "created_at", "annotation_id"]
    )
    return order.drop_duplicates(["article_id", "target_id"]).drop(columns="_gold")


def context(text: str, start: int, end: int) -> str:
    """The line(s) of the article that hold the span, at most CONTEXT_LIMIT characters around it."""
    left = max(text.rfind("\n", 0, start) + 1, start - CONTEXT_LIMIT // 2)
    right = text.find("\n", end)
    right = len(text) if right < 0 else right
    right = min(right, end + CONTEXT_LIMIT // 2)
    return text[left:right].strip()


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame's rows as plain dicts with string keys (column lists zipped: ``to_dict`` is slow)."""
    names = [str(c) for c in frame.columns]
    columns = [frame[c].tolist() for c in frame.columns]
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


def _none(value: Any) -> Any:
    return None if value is None or (not isinstance(value, str | list) and pd.isna(value)) else value


def build_rows(tables: dict[str, pd.DataFrame]) -> dict[str, list[dict[str, Any]]]:
    """articles / claims / sources / pairs rows, sorted by their ids (deterministic)."""
    articles = {a["article_id"]: a for a in records(tables["articles"])}
    targets = {t["target_id"]: t for t in records(tables["targets"])}
    spans_by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for span in records(tables["spans"]):
        spans_by[span["annotation_id"]].append(span)
    relations_by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for relation in records(tables["relations"]):
        relations_by[relation["annotation_id"]].append(relation)
    rows: dict[str, list[dict[str, Any]]] = {"articles": [], "claims": [], "sources": [], "pairs": []}
    for annotation in records(chosen_annotations(tables["annotations"])):
        article = articles[annotation["article_id"]]
        base = {
            "article_id": annotation["article_id"],
            "target_id": annotation["target_id"],
            "target": targets[annotation["target_id"]]["text"],
            "title": article["title"],
            "outlet": _none(article["outlet"]),
            "url": _none(article["url"]),
            "published": _none(article["published"]),
            "language": article["language"],
            "outlet_reliability": article["outlet_reliability"],
            "synthetic": bool(article["synthetic"]),
            "annotation_id": annotation["annotation_id"],
            "annotator": annotation["annotator"],
        }
        span_rows = sorted(
            (_span(s) for s in spans_by[annotation["annotation_id"]]),
            key=lambda s: (s["start"], s["end"], s["label"], s["span_id"]),
        )
        relation_rows = sorted(
            (
                {"type": r["type"], "from_id": r["from_id"], "to_id": r["to_id"]}
                for r in relations_by[annotation["annotation_id"]]
            ),
            key=lambda r: (r["from_id"], r["to_id"], r["type"]),
        )
        rows["articles"].append(
            {
                **base,
                "text": article["text"],
                "licence": article["licence"],
                "spans": span_rows,
                "relations": relation_rows,
            }
        )
        doc_label = V.document_stance(_none(annotation["related"]), _none(annotation["doc_stance"]))
        if doc_label is not None:
            rows["pairs"].append(
                {
                    **base,
                    "text": article["text"],
                    "related": bool(annotation["related"]),
                    "doc_stance": _none(annotation["doc_stance"]),
                    "doc_label": doc_label.value,
                    "original_label": _original(annotation, "label"),
                }
            )
        rows["claims"] += _claims(base, article["text"], span_rows, relation_rows)
        rows["sources"] += _sources(base, article["text"], span_rows, relation_rows)
    for name in ("articles", "pairs"):
        rows[name].sort(key=lambda r: (r["article_id"], r["target_id"]))
    for name, key in (("claims", "claim_id"), ("sources", "source_id")):
        rows[name].sort(key=_position(key))
    return rows


def _position(key: str) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    def position(row: dict[str, Any]) -> tuple[Any, ...]:
        return (row["article_id"], row["target_id"], row["start"], row["end"], row[key])

    return position


def _original(record: dict[str, Any], key: str) -> Any:
    """An original label or score kept in an imported record's metadata (None if absent)."""
    metadata = record.get("metadata")
    value = metadata.get(key) if isinstance(metadata, dict) else None
    if key == "label":
        return None if value is None else str(value)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _span(span: dict[str, Any]) -> dict[str, Any]:
    row = {k: span[k] for k in ("span_id", "label", "text")}
    row["start"], row["end"] = int(span["start"]), int(span["end"])
    row.update({name: _none(span[name]) for name in V.ATTRIBUTE_VALUES})
    row["original_label"] = _original(span, "label")
    row["original_score"] = _original(span, "score")
    return row


def _heads(relations: list[dict[str, Any]]) -> dict[str, dict[str, list[str]]]:
    """claim span id -> relation type -> head span ids."""
    heads: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for relation in relations:
        heads[relation["to_id"]][relation["type"]].append(relation["from_id"])
    return heads


def _claims(
    base: dict[str, Any], text: str, spans: list[dict[str, Any]], relations: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    by_id = {s["span_id"]: s for s in spans}
    heads = _heads(relations)
    rows = []
    for span in spans:
        if span["label"] != V.SpanLabel.CLAIM:
            continue
        sources = [by_id[h] for h in heads[span["span_id"]][V.RelationType.SOURCE_OF]]
        cues = sorted(
            (by_id[h] for h in heads[span["span_id"]][V.RelationType.CUE_OF]), key=lambda c: c["start"]
        )
        source = sources[0] if sources else {}
        graded = span["certainty"] is not None and span["polarity"] is not None
        code = V.factbank_code(span["certainty"], span["polarity"]) if graded else None
        rows.append(
            {
                **base,
                "claim_id": f"{base['annotation_id']}/{span['span_id']}",
                "text": span["text"],
                "start": span["start"],
                "end": span["end"],
                "context": context(text, span["start"], span["end"]),
                "stance": span["stance"],
                "certainty": span["certainty"],
                "polarity": span["polarity"],
                "factbank": None if code is None else code.value,
                "factuality": None if code is None else V.FACTUALITY_SCORE[code],
                "source_text": source.get("text"),
                "source_identified": source.get("identified"),
                "source_type": source.get("source_type"),
                "source_reliability": source.get("reliability"),
                "cue_texts": [c["text"] for c in cues],
                "cue_types": [c["cue_type"] for c in cues],
                "original_label": span["original_label"],
                "original_score": span["original_score"],
            }
        )
    return rows


def _sources(
    base: dict[str, Any], text: str, spans: list[dict[str, Any]], relations: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    by_id = {s["span_id"]: s for s in spans}
    claims: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for relation in relations:
        if relation["type"] == V.RelationType.SOURCE_OF:
            claims[relation["from_id"]].append(by_id[relation["to_id"]])
    rows = []
    for span in spans:
        if span["label"] != V.SpanLabel.SOURCE:
            continue
        own = sorted(claims[span["span_id"]], key=lambda c: (c["start"], c["span_id"]))
        rows.append(
            {
                **base,
                "source_id": f"{base['annotation_id']}/{span['span_id']}",
                "text": span["text"],
                "start": span["start"],
                "end": span["end"],
                "context": context(text, span["start"], span["end"]),
                "identified": span["identified"],
                "source_type": span["source_type"],
                "reliability": span["reliability"],
                "claim_ids": [f"{base['annotation_id']}/{c['span_id']}" for c in own],
                "claim_texts": [c["text"] for c in own],
                "claim_stances": [c["stance"] for c in own],
                "claim_certainties": [c["certainty"] for c in own],
            }
        )
    return rows
