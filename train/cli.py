"""``stancebank export``: the Hugging Face dataset."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def cmd_export(args: argparse.Namespace) -> int:
    from stancebank.outputs import check_output_dir, corpus_inputs, roots_of
    from stancebank.terminal import visible
    from stancebank.validate import load_valid
    from train.export import export, push_to_hub
    from train.splits import SPLITS, parse_proportions

    proportions = parse_proportions(args.split)
    check_output_dir(args.out, "export", inputs=corpus_inputs(args.data), roots=roots_of(args))
    corpus = load_valid(args.data)
    report = export(corpus.tables, args.out, proportions=proportions, seed=args.seed, card_path=str(args.out))
    for config, splits in report.counts.items():
        if any(splits.values()):
            print(visible(f"{config}: " + ", ".join(f"{split} {n}" for split, n in splits.items())))
    print(visible(f"written {report.out} (content sha256 {report.sha256[:16]}…)"))
    empty = [s for s in SPLITS if not report.counts.get("articles", {}).get(s)]
    if empty:
        print(
            f"stancebank: warning: split(s) {', '.join(empty)} have no articles (a corpus this small "
            "keeps at least one article in train and holds out test before validation)",
            file=sys.stderr,
        )
    if args.push_to_hub:
        push_to_hub(report.out, args.push_to_hub, token=os.environ.get("HF_TOKEN"))
        print(f"pushed to https://huggingface.co/datasets/{args.push_to_hub}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "export",
        help="write the Hugging Face dataset (parquet + card)",
        description="Validate data/, then write configs articles, claims, sources (and pairs for corpora "
        "with document-level labels) as parquet with a dataset card that datasets.load_dataset(OUT, CONFIG) "
        "reads. Deterministic. Imported corpora keep their own splits.",
    )
    parser.add_argument("data", nargs="*", type=Path, default=[Path("data")])
    parser.add_argument("--out", type=Path, default=Path("data/hf"))
    parser.add_argument("--split", default="0.7,0.15,0.15", help="train,validation,test proportions")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--push-to-hub", metavar="REPO", help="also upload (needs HF_TOKEN)")
    parser.set_defaults(func=cmd_export)
