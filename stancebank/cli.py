"""The ``stancebank`` command: one entry point, one subcommand per stage."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from schemas.errors import InvalidDataError, StanceBankError
from stancebank import __version__
from stancebank.failures import Failure
from stancebank.terminal import json_safe, markup_safe, visible

EXIT_OK, EXIT_INVALID, EXIT_UNREADABLE = 0, 1, 2
DEFAULT_DATA = Path("data")


def _failure_table(failures: list[Failure]) -> Table:
    table = Table(title=f"{len(failures)} validation failure(s)", show_lines=False)
    for name in ("file", "line", "article_id", "span_id", "rule", "column", "value"):
        table.add_column(name, overflow="fold")
    for f in failures:
        cells = (f.file, f.line, f.article_id, f.span_id, f.rule, f.column, f.value)
        table.add_row(*("" if cell is None else markup_safe(cell) for cell in cells))
    return table


def cmd_validate(args: argparse.Namespace) -> int:
    from stancebank.corpus import read_corpus
    from stancebank.validate import validate_corpus

    corpus = read_corpus(args.paths or [DEFAULT_DATA])
    failures = validate_corpus(corpus)
    if args.format == "json":
        print(json_safe(json.dumps([f._asdict() for f in failures], ensure_ascii=False, indent=1)))
    elif failures:
        Console(width=200).print(_failure_table(failures))
    else:
        counts = ", ".join(f"{len(frame)} {name}" for name, frame in corpus.tables.items())
        print(f"valid: {len(corpus.files)} file(s), {counts}")
    return EXIT_INVALID if failures else EXIT_OK


def cmd_summary(args: argparse.Namespace) -> int:
    from stancebank.summary import corpus_summary
    from stancebank.validate import load_valid

    corpus = load_valid(args.paths or [DEFAULT_DATA])
    console = Console()
    for table in corpus_summary(corpus.tables):
        console.print(table)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stancebank",
        description="Annotated-dataset toolkit for stance, certainty and source reliability in news.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate = sub.add_parser(
        "validate",
        help="check data files against every schema rule",
        description="Validate articles, targets and annotations (JSONL) against every schema and "
        "cross-table rule. Exit 0 when valid, 1 on invalid data, 2 on unreadable input.",
    )
    validate.add_argument(
        "paths", nargs="*", type=Path, help="data directories or .jsonl files (default: data/)"
    )
    validate.add_argument("--format", choices=("table", "json"), default="table")
    validate.set_defaults(func=cmd_validate)

    summary = sub.add_parser(
        "summary",
        help="print counts of articles, spans and labels",
        description="Validate, then print a summary of the corpus: articles, tasks, annotators, "
        "spans per label and the distribution of every attribute.",
    )
    summary.add_argument("paths", nargs="*", type=Path, help="data directories (default: data/)")
    summary.set_defaults(func=cmd_summary)

    from stancebank.importers.cli import register as register_import

    register_import(sub)
    from annotate.cli import register as register_studio

    register_studio(sub)
    from train.cli import register as register_export

    register_export(sub)
    from annotate.cli_quality import register as register_quality

    register_quality(sub)
    from train.cli_train import register as register_train

    register_train(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except InvalidDataError as exc:
        print(f"stancebank: {visible(exc)}; run 'stancebank validate' for the list", file=sys.stderr)
        return EXIT_INVALID
    except StanceBankError as exc:
        print(f"stancebank: error: {visible(exc)}", file=sys.stderr)
        return EXIT_UNREADABLE
    except KeyboardInterrupt:
        print("stancebank: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so in one line; STANCEBANK_DEBUG=1 shows the traceback
        if os.environ.get("STANCEBANK_DEBUG"):
            raise
        print(f"stancebank: internal error: {type(exc).__name__}: {visible(exc)}", file=sys.stderr)
        return EXIT_UNREADABLE


if __name__ == "__main__":
    sys.exit(main())
