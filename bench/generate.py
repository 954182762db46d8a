"""Deterministic synthetic corpora in StanceBank's exact file layout, for benchmarks.

    python bench/generate.py OUT_DIR --articles 10000 [--seed 7]

Each article has a few sentences with emoji/CJK sprinkled in, ~10 spans (SOURCE, CUE, CLAIM) with
relations, and one or two annotators.
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


def generate(out: Path, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    (out / "annotations").mkdir(parents=True, exist_ok=True)
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
            for who in ["ann1", "ann2"][: rng.randint(1, 2)]:
                annotations.write(
                    json.dumps(
                        {
                            "annotation_id": f"g{i}:t1:{who}",
                            "article_id": f"g{i}",
                            "target_id": f"g{i}:t1",
                            "annotator": who,
                            "created_at": "2025-01-02T00:00:00Z",
                            "updated_at": "2025-01-02T00:05:00Z",
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


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    generate(args.out, args.articles, args.seed)
