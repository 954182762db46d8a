"""Write adjudication results into data/ (validated, atomic) and push disputes back as a review project."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from annotate import convert
from annotate.adjudicate import Outcome
from annotate.client import Studio
from annotate.push import ensure_project
from schemas import vocabulary as V
from schemas.errors import InvalidDataError
from stancebank.corpus import Corpus, data_files, dumps_jsonl, read_corpus, write_atomic
from stancebank.outputs import check_output_file
from stancebank.validate import validate_corpus

GOLD_FILE = f"{V.GOLD_ANNOTATOR}.jsonl"


def base_files(data_dir: Path) -> list[Path]:
    """Every data file except the gold annotations (which adjudication rewrites)."""
    return [p for p in data_files([data_dir]) if p.name != GOLD_FILE]


def write_outcome(outcome: Outcome, data_dir: Path, *, roots: Sequence[Path] = ()) -> dict[str, Path]:
    """Gold annotations to annotations/gold.jsonl (after validating them), votes and disputes to gold/."""
    gold_path = data_dir / "annotations" / GOLD_FILE
    votes = data_dir / "gold" / "votes.jsonl"
    unresolved = data_dir / "gold" / "unresolved.jsonl"
    inputs = base_files(data_dir)
    for path in (gold_path, votes, unresolved):
        check_output_file(path, inputs=inputs, roots=roots)
    pending = gold_path.with_name(f".{GOLD_FILE}.pending")
    pending.write_text(dumps_jsonl(outcome.gold), encoding="utf-8")
    try:
        failures = validate_corpus(read_corpus([*base_files(data_dir), pending])) if outcome.gold else []
    finally:
        pending.unlink(missing_ok=True)
    if failures:
        raise InvalidDataError([f._asdict() for f in failures])
    if outcome.gold:
        write_atomic(gold_path, dumps_jsonl(outcome.gold))
    else:
        gold_path.unlink(missing_ok=True)
    write_atomic(votes, dumps_jsonl(_plain(v) for v in outcome.votes))
    write_atomic(unresolved, dumps_jsonl(_plain(u) for u in outcome.unresolved))
    return {"gold": gold_path, "votes": votes, "unresolved": unresolved}


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """JSON-friendly copy (offsets tuples become lists)."""
    return json.loads(json.dumps(row, default=list))


def push_review(studio: Studio, corpus: Corpus, outcome: Outcome, *, title: str) -> tuple[int, int]:
    """One review task per disputed item; each annotator's annotation of the task is a pre-annotation."""
    from annotate.config import label_config

    project_id = ensure_project(studio, title, label_config(review=True), force=False)
    articles = corpus["articles"].set_index("article_id")
    targets = corpus["targets"].set_index("target_id")
    annotations = corpus["annotations"]
    spans = corpus["spans"]
    relations = corpus["relations"]
    created = 0
    for number, item in enumerate(outcome.unresolved, start=1):
        article_id, target_id = item["task_key"].split(convert.KEY_SEPARATOR, 1)
        votes = ", ".join(f"{who}: {value}" for who, value in item["votes"].items())
        task = {
            "data": {
                "text": articles.at[article_id, "text"],
                "target": targets.at[target_id, "text"],
                "dispute": f"#{number} {item['item']} of {item['ref']} — {votes}",
                "task_key": f"{item['task_key']}#{number}",
                "article_id": article_id,
                "target_id": target_id,
            }
        }
        (task_id,) = studio.import_tasks(project_id, [task])
        created += 1
        mine = annotations[
            (annotations["article_id"] == article_id) & (annotations["target_id"] == target_id)
        ]
        for row in mine.to_dict("records"):
            if row["annotator"] not in item["votes"]:
                continue
            own_spans = spans[spans["annotation_id"] == row["annotation_id"]]
            own_relations = relations[relations["annotation_id"] == row["annotation_id"]]
            span_records = [
                {
                    "id": s["span_id"],
                    **{k: s[k] for k in ("label", "start", "end", "text")},
                    **{k: s[k] for k in V.ATTRIBUTE_VALUES if isinstance(s[k], str)},
                }
                for s in own_spans.to_dict("records")
            ]
            relation_records = [
                {"type": r["type"], "from_id": r["from_id"], "to_id": r["to_id"]}
                for r in own_relations.to_dict("records")
            ]
            studio.create_prediction(
                task_id,
                convert.annotation_to_results(span_records, relation_records),
                str(row["annotator"]),
                1.0,
            )
    return project_id, created
