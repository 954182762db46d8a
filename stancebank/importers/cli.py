"""``stancebank import FORMAT PATH… --out DIR``."""

from __future__ import annotations

import argparse
from pathlib import Path

FORMATS = ("fnc1", "certainty-jsonl", "table", "conll-factuality")


def cmd_import(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from stancebank.importers.base import MANIFEST, REJECTS, CorpusImportError, ImportWriter
    from stancebank.importers.certainty import import_certainty
    from stancebank.importers.conll import import_conll
    from stancebank.importers.fnc1 import import_fnc1
    from stancebank.importers.table import Columns, import_table, parse_label_map
    from stancebank.terminal import markup_safe, visible

    options = {k: v for k, v in vars(args).items() if k not in ("func", "command", "paths", "out", "fmt")}
    options = {k: str(v) if isinstance(v, Path) else v for k, v in options.items()}
    columns = None
    if args.fmt == "table":
        if not args.text_col or not args.target_col:
            raise CorpusImportError("import table needs --text-col and --target-col")
        columns = Columns(
            text=args.text_col,
            target=args.target_col,
            label=args.label_col,
            group=args.group_col,
            id=args.id_col,
            split=args.split_col,
            label_map=parse_label_map(args.label_map),
            corpus=args.corpus,
            language=args.language,
            licence=args.licence or "not stated: set --licence",
        )
    from stancebank.outputs import roots_of

    roots = roots_of(args)
    with ImportWriter(
        args.out, args.fmt, list(args.paths), force=args.force, quiet=args.quiet, roots=roots
    ) as writer:
        if args.fmt == "fnc1":
            import_fnc1(writer, args.paths)
        elif args.fmt == "certainty-jsonl":
            import_certainty(writer, args.paths)
        elif args.fmt == "conll-factuality":
            import_conll(writer, args.paths, corpus=args.corpus)
        else:
            assert columns is not None
            import_table(writer, args.paths, columns)
        report = writer.commit(options=options)
    table = Table(title=f"imported {args.fmt} → {markup_safe(report.out)}")
    for name in ("articles", "targets", "annotations", "spans", "rejected"):
        table.add_column(name, justify="right")
    table.add_row(
        *(str(report.counts.get(n, 0)) for n in ("articles", "targets", "annotations", "spans")),
        str(len(report.rejects)),
    )
    Console(stderr=False).print(table)
    for reject in report.rejects[:10]:
        print(visible(f"rejected {reject.file}:{reject.line}: {reject.reason}"))
    if len(report.rejects) > 10:
        print(f"… and {len(report.rejects) - 10} more")
    print(
        visible(
            f"details: {report.out / REJECTS}, {report.out / MANIFEST}; next: stancebank export {report.out}"
        )
    )
    return 1 if report.rejects else 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "import",
        help="convert a public corpus into StanceBank data files",
        description="Convert an external corpus (fnc1, certainty-jsonl, table, conll-factuality) into "
        "articles.jsonl, targets.jsonl and annotations/, validated by every schema rule, written "
        "atomically into --out with rejects.jsonl and import.json. Exit 0 when every row was imported, "
        "1 when some were rejected (the rest is written), 2 when nothing could be imported.",
    )
    parser.add_argument("fmt", choices=FORMATS, metavar="FORMAT", help=f"one of {', '.join(FORMATS)}")
    parser.add_argument(
        "paths", nargs="+", type=Path, metavar="PATH", help="input files (fnc1: or its folder)"
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder (a StanceBank data folder)")
    parser.add_argument("--force", action="store_true", help="replace an earlier import in --out")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    table = parser.add_argument_group("table format")
    table.add_argument("--text-col", help="column with the article text")
    table.add_argument("--target-col", help="column with the target (proposition)")
    table.add_argument("--label-col", help="column with the document-level stance label")
    table.add_argument("--label-map", help="original=ours,… with ours in support/oppose/neutral/unrelated")
    table.add_argument("--group-col", help="rows with the same value share one article")
    table.add_argument("--id-col", help="column with the row's original id (default: row number)")
    table.add_argument("--split-col", help="column with the row's split (train/validation/test…)")
    table.add_argument("--language", default="en", help="ISO 639-1 language of the texts (default en)")
    table.add_argument("--licence", help="licence or terms of the texts, written into every article")
    parser.add_argument("--corpus", help="corpus name used in ids and metadata (table, conll-factuality)")
    parser.set_defaults(func=cmd_import)
