"""``stancebank agreement`` and ``stancebank adjudicate``."""

from __future__ import annotations

import argparse
from pathlib import Path

from stancebank.project import AGREEMENT_REPORT, DATA


def cmd_agreement(args: argparse.Namespace) -> int:
    from rich.console import Console

    from annotate.agreement import agreement
    from annotate.agreement_report import alphas_below, data_hash, write_report
    from schemas import vocabulary as V
    from stancebank.outputs import check_output_dir, corpus_inputs, roots_of
    from stancebank.terminal import visible
    from stancebank.validate import load_valid

    check_output_dir(args.out, "agreement", inputs=corpus_inputs(args.data), roots=roots_of(args))
    corpus = load_valid(args.data)
    console = Console(stderr=True)
    with console.status("computing agreement…") as status:
        result = agreement(
            corpus.tables,
            n_bootstrap=args.bootstrap,
            seed=args.seed,
            progress=lambda scope: status.update(
                f"agreement: {scope} ({args.bootstrap} bootstrap resamples)…"
            ),
        )
    result["data_sha256"] = data_hash(corpus.tables)  # the export's card matches its report by it
    paths = write_report(result, args.out)
    overall = result["scopes"]["overall"]["figures"]
    for name in V.ATTRIBUTE_VALUES:
        print(f"α {name:12} {overall[f'alpha/{name}']['value']}")
    print(visible(f"report: {paths['markdown']}  json: {paths['json']}  heat-map: {paths['png']}"))
    for warning in result["warnings"]:
        print(visible(f"warning: {warning}"))
    if args.min_alpha is not None:
        low = alphas_below(result, args.min_alpha, args.attributes.split(","))
        if low:
            print(visible(f"α below {args.min_alpha}: " + "; ".join(low)))
            return 1
    return 0


def cmd_adjudicate(args: argparse.Namespace) -> int:
    from annotate.adjudicate import adjudicate
    from annotate.quality import base_files, push_review, write_outcome
    from stancebank.outputs import roots_of
    from stancebank.terminal import visible
    from stancebank.validate import load_valid

    corpus = load_valid(base_files(args.data))
    outcome = adjudicate(
        corpus.tables, adjudicator=args.adjudicator, guideline_version=args.project.guideline_version
    )
    paths = write_outcome(outcome, args.data, roots=roots_of(args))
    print(visible(f"gold annotations: {len(outcome.gold)} task(s) → {paths['gold']}"))
    print(visible(f"decisions: {len(outcome.votes)} (every vote kept) → {paths['votes']}"))
    print(visible(f"unresolved items: {len(outcome.unresolved)} → {paths['unresolved']}"))
    if args.push_review and outcome.unresolved:
        from annotate.cli import _studio

        project_id, created = push_review(_studio(args), corpus, outcome, title=f"{args.title} review")
        print(f"review project {args.title} review (id {project_id}): {created} disputed item(s) as tasks")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from annotate.cli import connection
    from schemas import vocabulary as V

    parser = sub.add_parser(
        "agreement",
        help="inter-annotator agreement report",
        description="Span F1 (exact and overlap), Krippendorff's α and Cohen's κ on matched spans, relation "
        "F1, per pair of annotators and overall, with bootstrap 95% intervals; writes Markdown, JSON, PNG.",
    )
    parser.add_argument("data", nargs="*", type=Path, default=[DATA], help="data folders or .jsonl files")
    parser.add_argument("--out", type=Path, default=AGREEMENT_REPORT, help="report folder")
    parser.add_argument("--bootstrap", type=int, default=200, help="resamples for the intervals")
    parser.add_argument("--seed", type=int, default=13, help="random seed of the bootstrap")
    parser.add_argument("--min-alpha", type=float, help="exit 1 if any α of --attributes is below this")
    parser.add_argument("--attributes", default=",".join(V.ATTRIBUTE_VALUES), help="for --min-alpha")
    parser.set_defaults(func=cmd_agreement)

    adj = sub.add_parser(
        "adjudicate",
        help="make gold annotations from several annotators",
        description="Match spans across annotators, majority vote per decision, ties to --adjudicator; "
        "writes data/annotations/gold.jsonl, data/gold/votes.jsonl and data/gold/unresolved.jsonl.",
    )
    adj.add_argument("data", nargs="?", type=Path, default=DATA, help="data folder (gold is written into it)")
    adj.add_argument("--adjudicator", help="annotator whose annotation breaks ties")
    adj.add_argument("--push-review", action="store_true", help="send unresolved items to Label Studio")
    connection(adj)
    adj.set_defaults(func=cmd_adjudicate)
