"""Deterministic synthetic corpora in StanceBank's exact file layout, for benchmarks.

    python bench/generate.py OUT_DIR --articles 10000 [--seed 7]

Each article has a few sentences with emoji/CJK sprinkled in, ~10 spans (SOURCE, CUE, CLAIM) with
relations, one to three annotators per task, and (``--label-studio``) the Label Studio JSON export of the
same annotations, as ``stancebank studio pull`` would have saved it.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

SUBJECTS = [
    "The ministry",
    "A spokesperson",
    "Analyst Mira Holt",
    "The company",
    "Officials",
    "東京 officials",
]
CLAIMS = [
    "the plan will go ahead",
    "talks may resume next week",
    "the deal is not expected soon",
    "prices could rise 😀 this year",
    "the bridge will reopen in May",
    "it is unclear whether funds exist",
]
CUES = ["said", "told reporters", "according to"]


def article(i: int, rng: random.Random) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    parts, spans, relations = [], [], []
    offset = 0
    for k in range(rng.randint(3, 4)):
        subject, cue, claim = rng.choice(SUBJECTS), rng.choice(CUES), rng.choice(CLAIMS)
        sentence = f"{subject} {cue} {claim}."
        s_start, c_start = offset, offset + len(subject) + 1
        cl_start = c_start + len(cue) + 1
        spans += [
            {
                "id": f"s{k}",
                "label": "SOURCE",
                "start": s_start,
                "end": s_start + len(subject),
                "text": subject,
                "identified": "named",
                "source_type": "government",
                "reliability": rng.choice(["high", "mixed"]),
            },
            {
                "id": f"q{k}",
                "label": "CUE",
                "start": c_start,
                "end": c_start + len(cue),
                "text": cue,
                "cue_type": "attribution",
            },
            {
                "id": f"c{k}",
                "label": "CLAIM",
                "start": cl_start,
                "end": cl_start + len(claim),
                "text": claim,
                "stance": rng.choice(["support", "oppose", "neutral"]),
                "certainty": rng.choice(["certain", "probable", "possible"]),
                "polarity": "positive",
            },
        ]
        relations += [
            {"type": "source_of", "from_id": f"s{k}", "to_id": f"c{k}"},
            {"type": "cue_of", "from_id": f"q{k}", "to_id": f"c{k}"},
        ]
        parts.append(sentence)
        offset += len(sentence) + 1
    text = " ".join(parts)
    record: dict[str, Any] = {
        "article_id": f"g{i}",
        "title": f"Story {i}",
        "text": text,
        "outlet": "Bench Wire",
        "url": None,
        "published": "2025-01-01",
        "language": "en",
        "outlet_reliability": "mixed",
        "synthetic": True,
        "licence": "CC-BY-4.0",
        "provenance": "bench/generate.py",
        "metadata": {},
    }
    return record, spans, relations


ANNOTATORS = ["ann1", "ann2", "ann3"]
#: The Label Studio export of a generated corpus (full JSON export + the meta that ``pull`` reads).
EXPORT = Path("raw") / "label-studio" / "bench" / "20260101T000000Z-bench.export.json"


def generate(out: Path, n: int, seed: int = 7, *, label_studio: bool = False, annotators: int = 3) -> None:
    """``n`` articles with one target each and 1–``annotators`` annotations per task; with
    ``label_studio``, also the Label Studio JSON export of the same annotations (``EXPORT`` under ``out``)."""
    rng = random.Random(seed)
    (out / "annotations").mkdir(parents=True, exist_ok=True)
    export = None
    if label_studio:
        from annotate.config import label_config

        (out / EXPORT).parent.mkdir(parents=True, exist_ok=True)
        meta = {"project_id": 1, "title": "bench", "label_config": label_config(), "users": {"1": "ann1"}}
        meta["users"] = {str(i): name for i, name in enumerate(ANNOTATORS, start=1)}
        (out / EXPORT).with_name(EXPORT.name.replace(".export.json", ".meta.json")).write_text(
            json.dumps(meta)
        )
        export = (out / EXPORT).open("w", encoding="utf-8")
        export.write("[")
    annotation_number = 0
    with (
        (out / "articles.jsonl").open("w", encoding="utf-8") as articles,
        (out / "targets.jsonl").open("w", encoding="utf-8") as targets,
        (out / "annotations" / "bench.jsonl").open("w", encoding="utf-8") as annotations,
    ):
        for i in range(n):
            record, spans, relations = article(i, rng)
            articles.write(json.dumps(record, ensure_ascii=False) + "\n")
            targets.write(
                json.dumps({"target_id": f"g{i}:t1", "article_id": f"g{i}", "text": "It happens."}) + "\n"
            )
            task: dict[str, Any] = {
                "id": i + 1,
                "data": {"text": record["text"], "target": "It happens.", "task_key": f"g{i}|g{i}:t1"},
                "annotations": [],
            }
            for who in ANNOTATORS[: rng.randint(1, annotators)]:
                annotation_number += 1
                times = {"created_at": "2025-01-02T00:00:00Z", "updated_at": "2025-01-02T00:05:00Z"}
                annotations.write(
                    json.dumps(
                        {
                            "annotation_id": f"g{i}:t1:{who}",
                            "article_id": f"g{i}",
                            "target_id": f"g{i}:t1",
                            "annotator": who,
                            **times,
                            "guideline_version": "1.0",
                            "config_hash": None,
                            "ls_task_id": None,
                            "ls_annotation_id": None,
                            "spans": spans,
                            "relations": relations,
                        },
                        ensure_ascii=False,
                    )
                    + "\n"
                )
                if export is not None:
                    from annotate.convert import annotation_to_results

                    task["annotations"].append(
                        {
                            "id": annotation_number,
                            "completed_by": ANNOTATORS.index(who) + 1,
                            "was_cancelled": False,
                            **times,
                            "result": annotation_to_results(spans, relations),
                        }
                    )
            if export is not None:
                export.write(("," if i else "") + json.dumps(task, ensure_ascii=False))
    if export is not None:
        export.write("]")
        export.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--label-studio", action="store_true", help="also write a Label Studio export")
    parser.add_argument("--annotators", type=int, default=3, help="at most this many annotations per task")
    args = parser.parse_args()
    generate(args.out, args.articles, args.seed, label_studio=args.label_studio, annotators=args.annotators)
