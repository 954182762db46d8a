"""``stancebank export``: the Hugging Face dataset."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from schemas.errors import StanceBankError
from stancebank.project import DATA, DATASET
from stancebank.spark import add_engine_arguments
from stancebank.terminal import positive_int

#: train.export.DEFAULT_SHARD_SIZE (not imported here: the CLI starts without the export's imports)
DEFAULT_SHARD_SIZE = 1_000_000

if TYPE_CHECKING:
    from train.export import ExportReport


def print_account(report: ExportReport) -> None:
    """What the export used and what it did not use, and why: per annotator, per reason."""
    from rich.console import Console
    from rich.table import Table

    from train.votes import ONLY, PARTLY, USED, VOTES

    console = Console()
    frame = report.account
    statuses = [USED, VOTES, PARTLY, ONLY]
    table = Table(title=f"annotations (policy {' → '.join(report.policy)})")
    table.add_column("annotator")
    table.add_column("total", justify="right")
    for status in statuses:
        table.add_column(status.replace("annotations ", "in annotations "), justify="right")
    table.add_column("spans in no row", justify="right")
    for annotator, group in frame.groupby("annotator", sort=True):
        counts = group["status"].value_counts()
        missing = int((group["spans"] - group["reached"]).sum())
        table.add_row(
            str(annotator), str(len(group)), *(str(int(counts.get(s, 0))) for s in statuses), str(missing)
        )
    console.print(table)
    unused = frame.loc[frame["status"] != USED]
    if len(unused):
        reasons = Table(title="not used for the claims/sources rows, because")
        reasons.add_column("reason")
        reasons.add_column("annotations", justify="right")
        for reason, n in unused["reason"].value_counts().sort_index().items():
            reasons.add_row(str(reason), str(int(n)))
        console.print(reasons)
    console.print(
        "every annotation is a row of the [bold]annotations[/bold] config; "
        f"{len(report.unrepresented)} have claim/source spans that reach no claims/sources row"
    )


def print_report(report: ExportReport, engine: str = "") -> None:
    """What an export wrote (rows per config and split), the account, the warnings (both engines)."""
    from stancebank.terminal import visible

    for config, splits in report.counts.items():
        if any(splits.values()):
            print(visible(f"{config}: " + ", ".join(f"{split} {n}" for split, n in splits.items())))
    print_account(report)
    for warning in report.warnings:
        print(visible(f"stancebank: warning: {warning}"), file=sys.stderr)
    if not report.agreement:
        print(
            "agreement: not computed for this data (run 'stancebank agreement', then export again)"
            if not engine
            else f"agreement: not part of an export with --engine {engine} (use --engine local for it)"
        )
    suffix = f", engine {engine}" if engine else ""
    print(visible(f"written {report.out} (content sha256 {report.sha256[:16]}…{suffix})"))


def load_path(out: Path, root: Path, repo: str | None = None) -> str:
    """What the card's "Load it" snippet opens: the Hub repository it is pushed to, else the folder as
    seen from the project's root (where its commands run), else its absolute path (never a path relative
    to wherever the command happened to run)."""
    if repo:
        return repo
    folder, root = out.resolve(), root.resolve()
    return folder.relative_to(root).as_posix() if folder.is_relative_to(root) else folder.as_posix()


def cmd_export(args: argparse.Namespace) -> int:
    if getattr(args, "engine", "local") != "spark" and getattr(args, "format", "hf") != "brat":
        from stancebank.scan import scan_ahead

        scan_ahead(args.data)  # the validation's first pass, while the export's modules load
    from stancebank.outputs import check_output_dir, corpus_inputs, roots_of
    from stancebank.project import project_of
    from stancebank.terminal import visible
    from stancebank.validate import load_valid
    from train.export import UnrepresentedError, export_files, push_to_hub
    from train.policy import parse_policy
    from train.splits import parse_proportions

    project = project_of(args)
    proportions = parse_proportions(args.split)
    policy = parse_policy(args.policy) if args.policy else project.export_policy
    out, data = args.out, args.data
    own = out.resolve() == project.dataset_dir  # the project's dataset folder (the default)
    brat = getattr(args, "format", "hf") == "brat"
    if brat and own:
        raise StanceBankError("export --format brat needs --out (a new folder), not the dataset folder")
    command = "export --format brat" if brat else "export"  # the brat one: brat_export.BRAT_COMMAND
    check_output_dir(out, command, inputs=corpus_inputs(data), roots=roots_of(args))
    card_path = load_path(out, project.root, args.push_to_hub)
    if getattr(args, "engine", "local") == "spark" and not brat:
        return _export_spark(args, project, proportions, policy, card_path)
    if brat:
        return _export_brat(load_valid(data).tables, out, proportions, args.seed)
    agreement_path = project.reports_dir / "agreement" / "agreement.json"
    try:  # validated as it is read, chunk by chunk (the whole corpus is never in memory)
        report = export_files(
            list(data),
            out,
            validate=True,
            agreement_path=agreement_path,
            project=project,
            proportions=proportions,
            seed=args.seed,
            policy=policy,
            card_path=card_path,
            strict=args.strict,
            shard_size=args.shard_size,
            jobs=args.jobs,
        )
    except UnrepresentedError as exc:
        print_account(exc.report)
        print(f"stancebank: {visible(exc)}", file=sys.stderr)
        return 1
    print_report(report)
    if args.push_to_hub:
        push_to_hub(report.out, args.push_to_hub, token=os.environ.get("HF_TOKEN"))
        print(f"pushed to https://huggingface.co/datasets/{args.push_to_hub}")
    return 0


def _export_spark(
    args: argparse.Namespace,
    project: Any,
    proportions: tuple[float, float, float],
    policy: Any,
    card_path: str,
) -> int:
    from schemas.errors import InvalidDataError
    from stancebank.engines.spark_validate import validate_spark
    from stancebank.spark import job_errors
    from train.spark_export import export_spark

    unsupported = [
        flag
        for flag, given in (
            ("--strict", args.strict),
            ("--push-to-hub", args.push_to_hub),
            ("--shard-size", args.shard_size != DEFAULT_SHARD_SIZE),
            ("--jobs", args.jobs is not None),
        )
        if given
    ]
    if unsupported:
        raise StanceBankError(
            f"export --engine spark does not support {', '.join(unsupported)} yet: use --engine local"
        )
    with job_errors("export --engine spark"):
        # the same rules the local engine runs first, run by Spark: invalid data is never exported, and
        # no stage of a Spark export holds the corpus in one process
        failures = validate_spark(args.data, master=args.master).failures
        if failures:
            raise InvalidDataError([f._asdict() for f in failures])
        report = export_spark(
            list(args.data),
            args.out,
            master=args.master,
            proportions=proportions,
            seed=args.seed,
            policy=policy,
            project=project,
            card_path=card_path,
        )
    print_report(report, "spark")
    return 0


def _export_brat(tables: Any, out: Any, proportions: tuple[float, float, float], seed: int) -> int:
    from stancebank.brat_export import export_brat, splits_of
    from stancebank.terminal import visible

    if not len(tables["annotations"]):
        raise StanceBankError(
            "nothing to export: no annotations yet (brat files hold annotated articles); annotate in "
            "Label Studio (stancebank studio push, then pull) or import annotated data"
        )
    counts = export_brat(tables, out, split_of=splits_of(tables, proportions=proportions, seed=seed))
    written = ", ".join(f"{split} {n} article(s)" for split, n in sorted(counts.items()))
    print(visible(f"written {out}: {written}"))
    print(
        f"read back with: stancebank import brat {out} --out DIR "
        "--label-map SOURCE=SOURCE,CUE=CUE,CLAIM=CLAIM"
    )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "export",
        help="write the Hugging Face dataset (parquet + card)",
        description="Validate the data, then write configs articles, claims, sources, annotations (and pairs "
        "for corpora with document-level labels) as parquet with a dataset card made from stancebank.toml "
        "that datasets.load_dataset(OUT, CONFIG) reads. Deterministic. Imported corpora keep their own "
        "splits. Prints which annotations were used for the claims/sources rows and why the others were "
        "not.",
    )
    parser.add_argument("data", nargs="*", type=Path, default=[DATA], help="data folders or .jsonl files")
    parser.add_argument("--out", type=Path, default=DATASET, help="dataset folder")
    parser.add_argument("--split", default="0.7,0.15,0.15", help="train,validation,test proportions")
    parser.add_argument("--seed", type=int, default=13, help="random seed of the split")
    parser.add_argument(
        "--policy",
        default=None,
        help="which annotation of a task gives its claims/sources rows: comma-separated rules from gold, "
        "majority, latest, earliest, first that applies wins (default: [export] policy of stancebank.toml, "
        "else gold,majority,latest)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit 1, writing nothing, when an annotation's CLAIM/SOURCE spans reach no claims/sources row "
        "(neither as the row nor as a vote); local engine only",
    )
    parser.add_argument(
        "--shard-size",
        type=positive_int,
        default=DEFAULT_SHARD_SIZE,
        metavar="ROWS",
        help=f"rows per parquet file: a split with more rows is written as <split>-<i>-of-<n>.parquet "
        f"shards (default {DEFAULT_SHARD_SIZE:,}; local engine only: Spark writes a shard per partition)",
    )
    parser.add_argument(
        "--jobs",
        type=positive_int,
        metavar="N",
        help="processes building ranges of articles side by side (default: the cores this process "
        "may use; local engine only); the output is the same for any N",
    )
    parser.add_argument(
        "--push-to-hub", metavar="REPO", help="also upload (needs HF_TOKEN; local engine only)"
    )
    parser.add_argument(
        "--format",
        choices=("hf", "brat"),
        default="hf",
        help="hf: the Hugging Face dataset (default); brat: brat standoff .txt/.ann per article, a folder "
        "per split (give --out a new folder)",
    )
    add_engine_arguments(parser)
    parser.set_defaults(func=cmd_export, c_heap=True)  # see stancebank.parallel.use_c_heap_for_arrow
