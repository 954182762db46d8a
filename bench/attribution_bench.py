"""Attribution models at scale, on a synthetic corpus from bench/generate.py (not part of the tests).

    python bench/attribution_bench.py --train-tokens 600000 --predict 10000

Times (fresh models, one process): fitting each model (tagger + linker) on articles adding up to about
``--train-tokens`` tokens, and predicting spans + relations for ``--predict`` articles with the fitted
CRF (the pre-annotation path, without Label Studio). Generated sentences are short and repetitive, so
these are speed figures only; the F1 of a model on them means nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.generate import generate
from train.attribution.linker import Span
from train.attribution.pipeline import AttributionModel, Example
from train.attribution.tokens import tokenize


def examples(folder: Path) -> list[Example]:
    texts = {}
    with (folder / "articles.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            texts[record["article_id"]] = record["text"]
    out: dict[str, Example] = {}
    with (folder / "annotations" / "bench.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            a = json.loads(line)
            if a["article_id"] in out:
                continue  # the first annotator of each task
            spans = [Span(s["id"], s["label"], s["start"], s["end"]) for s in a["spans"]]
            relations = {(r["type"], r["from_id"], r["to_id"]) for r in a["relations"]}
            out[a["article_id"]] = Example(a["article_id"], texts[a["article_id"]], spans, relations)
    return list(out.values())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--train-tokens", type=int, default=600_000, help="default 600000")
    parser.add_argument("--predict", type=int, default=10_000, help="articles to predict (default 10000)")
    parser.add_argument("--models", default="crf,token-lr", help="default crf,token-lr")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "probe"
        generate(probe, 200, seed=7, annotators=1)
        per_article = sum(len(tokenize(e.text)) for e in examples(probe)) / 200
        n_train = int(args.train_tokens / per_article) + 1
        folder = Path(tmp) / "corpus"
        generate(folder, n_train + args.predict, seed=11, annotators=1)
        everything = examples(folder)
    train, held = everything[:n_train], everything[n_train : n_train + args.predict]
    tokens = sum(len(tokenize(e.text)) for e in train)
    print(f"machine: {os.cpu_count()} cores visible; python {sys.version.split()[0]}")
    print(f"train: {len(train)} articles, {tokens} tokens; predict: {len(held)} articles")
    fitted = {}
    for name in args.models.split(","):
        started = time.perf_counter()
        fitted[name] = AttributionModel(model=name).fit(train)
        print(f"fit {name}: {time.perf_counter() - started:.1f} s")
    for name, model in fitted.items():
        started = time.perf_counter()
        predictions = model.predict([e.text for e in held])
        seconds = time.perf_counter() - started
        spans = sum(len(p.spans) for p in predictions)
        print(f"predict {name}: {len(held)} articles, {spans} spans in {seconds:.1f} s")


if __name__ == "__main__":
    main()
