"""``stancebank import FORMAT PATH… [--out DIR]``: one subcommand per format, each with its own help."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from stancebank.project import DATA

if TYPE_CHECKING:
    from stancebank.importers.base import ImportReport

FORMATS = ("fnc1", "certainty-jsonl", "table", "conll-factuality", "brat")


def cmd_import(args: argparse.Namespace) -> int:
    from stancebank.importers.base import CorpusImportError, ImportWriter
    from stancebank.importers.certainty import import_certainty
    from stancebank.importers.conll import import_conll
    from stancebank.importers.fnc1 import import_fnc1
    from stancebank.importers.table import Columns, import_table, parse_label_map
    from stancebank.terminal import visible

    skip = ("func", "command", "paths", "out", "fmt", "project", "project_dir")
    options = {k: v for k, v in vars(args).items() if k not in skip}
    options = {k: str(v) if isinstance(v, Path) else v for k, v in options.items()}
    columns = None
    span_map = None
    if args.fmt == "brat":
        from stancebank.importers.brat import parse_span_map

        span_map = parse_span_map(args.label_map)
    if args.fmt == "table":
        if not args.text_col or not args.target_col:
            raise CorpusImportError("import table needs --text-col and --target-col")
        columns = Columns(
            text=args.text_col,
            target=args.target_col,
            label=args.label_col,
            group=args.group_col,
            split_group=args.split_group_col,
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
        elif args.fmt == "brat":
            from stancebank.importers.brat import import_brat

            assert span_map is not None
            import_brat(writer, args.paths, label_map=span_map, annotator=args.annotator, corpus=args.corpus)
        else:
            assert columns is not None
            import_table(writer, args.paths, columns)
        report = writer.commit(options=options)
    code = _print_report(report, args.fmt, report.out, report.out)
    print(visible(f"next: stancebank export {report.out}"))
    return code


def cmd_import_text(args: argparse.Namespace) -> int:
    import tempfile

    from stancebank.importers.base import ImportWriter
    from stancebank.importers.merge import holds_data, merge_into
    from stancebank.importers.text import TextOptions, import_text, input_files
    from stancebank.outputs import roots_of

    options = TextOptions(
        target=args.target,
        targets_file=args.targets,
        language=args.language,
        licence=args.licence or _project_licence(args),
    )
    out: Path = args.out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    merging = holds_data(out) and not args.force
    recorded = {
        "target": args.target,
        "targets": str(args.targets) if args.targets else None,
        "language": options.language,
        "licence": options.licence,
    }
    with tempfile.TemporaryDirectory(prefix=f".{out.name}.import.", dir=out.parent) as scratch:
        staged = Path(scratch) / "staged" if merging else out
        files = input_files(list(args.paths))
        inputs = [*files, *([args.targets] if args.targets else [])]
        with ImportWriter(
            staged, "text", inputs, force=args.force, quiet=args.quiet, roots=roots_of(args)
        ) as writer:
            import_text(writer, files, options)
            report = writer.commit(options=recorded)
        where = merge_into(staged, out, "text") if merging else out
    return _print_report(report, "text", out, where)


def _project_licence(args: argparse.Namespace) -> str:
    """Your own articles default to the project's licence (stancebank.toml), when it names one."""
    from stancebank.project import project_of

    project = project_of(args)
    known = project.found and project.license not in ("", "unknown")  # not a label: a licence id
    return project.license if known else "not stated: set --licence"


def _print_report(report: ImportReport, fmt: str, out: Path, details: Path) -> int:
    from rich.console import Console
    from rich.table import Table

    from stancebank.importers.base import MANIFEST, REJECTS
    from stancebank.terminal import markup_safe, visible

    table = Table(title=f"imported {fmt} → {markup_safe(out)}")
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
    print(visible(f"details: {details / REJECTS}, {details / MANIFEST}"))
    return 1 if report.rejects else 0


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--force", action="store_true", help="replace an earlier import in --out")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "import",
        help="bring articles or a public corpus into StanceBank data files",
        description="Convert your own articles (text) or an external corpus (fnc1, certainty-jsonl, table, "
        "conll-factuality) into articles.jsonl, targets.jsonl and annotations/, validated by every schema "
        "rule, written atomically into --out with rejects.jsonl and import.json. Exit 0 when every row "
        "was imported, 1 when some were rejected (the rest is written), 2 when nothing could be imported. "
        "'stancebank import FORMAT --help' explains each format.",
    )
    formats = parser.add_subparsers(
        dest="fmt", required=True, metavar="FORMAT", help="the input's format; FORMAT --help for its options"
    )
    text = formats.add_parser(
        "text",
        help="your own articles: .txt/.md files or a JSONL/CSV table",
        description="Import your own articles for labelling. A folder (or list) of .txt / .md files: "
        "one article per file, id = the file name's stem made safe, title = its first line (a Markdown "
        "heading without '#'), text = the file as written (CRLF kept). A .jsonl / .csv / .tsv table: one "
        "article per row, columns id and text, optionally title, url, outlet, published (YYYY-MM-DD), "
        "language, outlet_reliability, target. Every article needs a target: the 'target' column, "
        "--target, or --targets. Into a data folder that already holds articles (the project's data/, "
        "the default) the new articles are added, annotations untouched; an id that is already there "
        "is refused.",
    )
    text.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="folders, text files or tables")
    text.add_argument("--out", type=Path, default=DATA, help="data folder to write or add to")
    text.add_argument("--target", help="the target (proposition) of every article")
    text.add_argument("--targets", type=Path, help="JSONL or CSV of article_id,target (one row per target)")
    text.add_argument("--language", default="en", help="ISO 639-1 code of texts without a language column")
    text.add_argument(
        "--licence",
        help="licence or terms of the texts, written into every article (default: the project's licence "
        "from stancebank.toml when it names one, else 'not stated: set --licence')",
    )
    _common(text)
    text.set_defaults(func=cmd_import_text)

    described = {
        "fnc1": "the Fake News Challenge stance corpus (its CSV files, or their folder)",
        "certainty-jsonl": "sentence certainty scores (JSONL)",
        "table": "any CSV / TSV / JSONL table of (text, target, label) rows, columns named by options",
        "conll-factuality": "CoNLL-style token factuality files",
        "brat": "brat standoff (.txt + .ann pairs, or folders of them; train/dev/test folders set the split)",
    }
    for fmt, what in described.items():
        one = formats.add_parser(
            fmt, help=what, description=f"Import {what} into --out (a new StanceBank data folder)."
        )
        one.add_argument(
            "paths", nargs="+", type=Path, metavar="PATH", help="input files (fnc1, brat: or folders)"
        )
        one.add_argument(
            "--out", type=Path, required=True, help="output folder (a new StanceBank data folder)"
        )
        _common(one)
        if fmt in ("table", "conll-factuality", "brat"):
            one.add_argument("--corpus", help="corpus name used in ids and metadata")
        if fmt == "brat":
            one.add_argument(
                "--label-map",
                help="BratType=LABEL,… with LABEL in SOURCE/CUE/CLAIM (required), e.g. "
                "Source=SOURCE,Cue=CUE,Content=CLAIM",
            )
            one.add_argument(
                "--annotator", help="annotator name of the imported annotations (default: corpus)"
            )
        if fmt == "table":
            one.add_argument("--text-col", help="column with the article text (required)")
            one.add_argument("--target-col", help="column with the target (proposition) (required)")
            one.add_argument("--label-col", help="column with the document-level stance label")
            one.add_argument(
                "--label-map", help="original=ours,… with ours in support/oppose/neutral/unrelated"
            )
            one.add_argument(
                "--group-col",
                help="rows with the same value share one article (default: rows with the same text do)",
            )
            one.add_argument(
                "--split-group-col",
                help="the claim/topic/event column: rows with the same value stay in one split and one "
                "cross-validation fold (the export's 'group' column); texts are shared only within it",
            )
            one.add_argument("--id-col", help="column with the row's original id (default: row number)")
            one.add_argument("--split-col", help="column with the row's split (train/validation/test…)")
            one.add_argument("--language", default="en", help="ISO 639-1 language of the texts")
            one.add_argument("--licence", help="licence or terms of the texts, written into every article")
        one.set_defaults(func=cmd_import)
