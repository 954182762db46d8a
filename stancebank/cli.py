"""The ``stancebank`` command: one entry point, one subcommand per stage."""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from rich.console import Console
from rich.table import Table

from schemas.errors import InvalidDataError, StanceBankError
from stancebank import __version__, parallel
from stancebank.failures import Failure
from stancebank.project import DATA, PROJECT_FILE, ProjectError, find_project, load_project, resolve_defaults
from stancebank.spark import add_engine_arguments
from stancebank.terminal import json_safe, markup_safe, positive_int, visible

EXIT_OK, EXIT_INVALID, EXIT_UNREADABLE = 0, 1, 2


class _Formatter(argparse.HelpFormatter):
    """Every argument's default in its help (lists joined, nothing for a flag or an unset option);
    descriptions wrapped to the terminal."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if "default" in text or default in (None, False, argparse.SUPPRESS) or action.nargs == 0:
            return text
        if action.option_strings or action.nargs in (argparse.OPTIONAL, argparse.ZERO_OR_MORE):
            shown = " ".join(map(str, default)) if isinstance(default, list) else str(default)
            return f"{text} (default: {shown.replace('%', '%%')})"
        return text


class _Parser(argparse.ArgumentParser):
    """An argument parser whose help shows defaults (its subcommands inherit it)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]


def _failure_table(failures: list[Failure]) -> Table:
    table = Table(title=f"{len(failures)} validation failure(s)", show_lines=False)
    for name in ("file", "line", "article_id", "span_id", "rule", "column", "value"):
        table.add_column(name, overflow="fold")
    for f in failures:
        cells = (f.file, f.line, f.article_id, f.span_id, f.rule, f.column, f.value)
        table.add_row(*("" if cell is None else markup_safe(cell) for cell in cells))
    return table


def cmd_validate(args: argparse.Namespace) -> int:
    if getattr(args, "engine", "local") == "spark":
        from stancebank.engines.spark_validate import validate_spark
        from stancebank.spark import job_errors

        with job_errors("validate --engine spark"):
            result = validate_spark(args.paths, master=args.master)
        failures, rows, files = result.failures, result.counts, result.files
    else:
        from stancebank.scan import scan_ahead

        scan_ahead(args.paths, args.chunk_lines)  # while pandas and pandera load
        from stancebank.validate import validate_paths

        failures, rows, files = validate_paths(args.paths, args.chunk_lines, jobs=args.jobs)
    if args.format == "json":
        print(json_safe(json.dumps([f._asdict() for f in failures], ensure_ascii=False, indent=1)))
    elif failures:
        Console(width=200).print(_failure_table(failures))
    else:
        counts = ", ".join(f"{count} {name}" for name, count in rows.items())
        print(f"valid: {len(files)} file(s), {counts}")
    return EXIT_INVALID if failures else EXIT_OK


def cmd_summary(args: argparse.Namespace) -> int:
    from stancebank.summary import corpus_summary
    from stancebank.validate import load_valid

    corpus = load_valid(args.paths)
    console = Console()
    for table in corpus_summary(corpus.tables):
        console.print(table)
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    from stancebank.files import read_text
    from stancebank.init import init_project

    citation = read_text(args.citation_file) if args.citation_file else ""
    written = init_project(
        args.dir,
        name=args.name,
        description=args.description,
        license=args.license,
        citation=citation,
        languages=tuple(args.language or ["en"]),
    )
    from stancebank.project import load_project

    root = args.dir.resolve()
    for path in written:
        print(f"written {path.relative_to(root)}{'/' if path.is_dir() else ''}")
    name = load_project(root).name
    print(f"project {name!r} ready in {root}; next: stancebank import text PATH… (from inside it)")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="stancebank",
        description="Annotated-dataset toolkit for stance, certainty and source reliability in news. "
        "Every command works on the project found by walking up from the current folder to the first "
        "stancebank.toml (or --project-dir, or $STANCEBANK_PROJECT_DIR); its defaults are that project's.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--project-dir",
        type=Path,
        metavar="DIR",
        help="the project folder (holding stancebank.toml); default: found by walking up from the "
        "current folder",
    )
    sub = parser.add_subparsers(
        dest="command",
        required=True,
        metavar="COMMAND",
        parser_class=_Parser,
        help="one stage of the work; COMMAND --help for its options",
    )

    init = sub.add_parser(
        "init",
        help="start a new project: stancebank.toml, data/, a starter guideline",
        description="Write stancebank.toml, data/articles.jsonl and data/targets.jsonl (empty), "
        "data/annotations/, data/GUIDELINES.md (a starter guideline) and a .gitignore for Label Studio's "
        "state and secrets. Refuses a folder that already holds a stancebank.toml (exit 2).",
    )
    init.add_argument("dir", nargs="?", type=Path, default=Path("."), help="the project folder")
    init.add_argument("--name", default="", help="project and dataset name (default: the folder's name)")
    init.add_argument("--description", default="", help="one paragraph for the dataset card")
    licence_default = "unknown"  # not a label
    init.add_argument("--license", default=licence_default, help="licence id of the dataset, e.g. cc-by-4.0")
    init.add_argument("--citation-file", type=Path, help="a BibTeX file for the card's citation section")
    init.add_argument("--language", action="append", help="ISO 639-1 code of the texts; repeatable (en)")
    init.set_defaults(func=cmd_init)

    validate = sub.add_parser(
        "validate",
        help="check data files against every schema rule",
        description="Validate articles, targets and annotations (JSONL) against every schema and "
        "cross-table rule. Exit 0 when valid, 1 on invalid data, 2 on unreadable input. --engine spark "
        "checks the same rules in Apache Spark and prints the same failure table.",
    )
    validate.add_argument(
        "paths", nargs="*", type=Path, default=[DATA], help="data directories or .jsonl files"
    )
    validate.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    validate.add_argument(
        "--chunk-lines",
        type=positive_int,
        default=20_000,
        metavar="N",
        help="annotation lines validated at a time, at most (memory grows with N, not with the corpus)",
    )
    validate.add_argument(
        "--jobs",
        type=positive_int,
        metavar="N",
        help="processes parsing and checking chunks side by side, for annotation files of 32 MB or more "
        "(default: the cores this process may use; each holds its chunks: --jobs 1 for the least memory); "
        "the failures are the same for any N; local engine",
    )
    add_engine_arguments(validate)
    validate.set_defaults(func=cmd_validate, c_heap=True)

    summary = sub.add_parser(
        "summary",
        help="print counts of articles, spans and labels",
        description="Validate, then print a summary of the corpus: articles, tasks, annotators, "
        "spans per label and the distribution of every attribute.",
    )
    summary.add_argument("paths", nargs="*", type=Path, default=[DATA], help="data directories or files")
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


#: Failures a refusing command (export, train, summary …) names before pointing to ``validate``.
SHOWN_FAILURES = 10


def failure_lines(failures: list[dict[str, object]], shown: int = SHOWN_FAILURES) -> list[str]:
    """The first ``shown`` failures, one line each (:meth:`Failure.one_line`, control and bidi characters
    escaped), then how many more there are."""
    lines = [visible(Failure(**f).one_line()) for f in failures[:shown]]  # type: ignore[arg-type]
    if len(failures) > shown:
        lines.append(f"… and {len(failures) - shown} more")
    return lines


def _data_project(args: argparse.Namespace) -> None:
    """A project folder given where data is expected stands for that project: the command reads (and
    writes, e.g. gold) its data folder and takes its settings (name, licence, output folders), as
    ``--project-dir`` would. Data of two projects at once, or another ``--project-dir``, is refused."""
    if getattr(args, "command", None) == "import":  # inputs to import, not data
        return
    found: list[Path] = []

    def data_of(value: object) -> object:
        if isinstance(value, str | Path):
            path = Path(value)
            if path.is_dir() and (path / PROJECT_FILE).is_file() and not (path / "articles.jsonl").exists():
                found.append(path.resolve())
                return load_project(path).data_dir
        return value

    for key in ("paths", "data"):
        value = getattr(args, key, None)
        setattr(args, key, [data_of(v) for v in value] if isinstance(value, list) else data_of(value))
    roots = sorted(set(found))
    if len(roots) > 1:
        raise ProjectError(
            f"the data comes from {len(roots)} projects ({', '.join(map(str, roots))}): give one"
        )
    if roots:
        given = getattr(args, "project_dir", None)
        if given is not None and Path(given).resolve() != roots[0]:
            raise ProjectError(f"{roots[0]} is a project of its own, but --project-dir names {given}")
        args.project_dir = roots[0]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    if getattr(args, "c_heap", False):  # before the command imports pyarrow and numpy
        parallel.use_c_heap_for_arrow()
        parallel.small_pages_for_numpy()
    try:
        if func is not cmd_init:
            _data_project(args)
            args.project = find_project(args.project_dir)
            resolve_defaults(args, args.project)
        return func(args)
    except InvalidDataError as exc:
        for line in failure_lines(exc.failures):
            print(f"stancebank: {line}", file=sys.stderr)
        print(f"stancebank: {visible(exc)}; run 'stancebank validate' for the list", file=sys.stderr)
        return EXIT_INVALID
    except StanceBankError as exc:
        print(f"stancebank: error: {visible(exc)}", file=sys.stderr)
        return EXIT_UNREADABLE
    except KeyboardInterrupt:
        print("stancebank: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`stancebank … | head`): stop quietly, as cat does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as exc:  # a bug: say so in one line; STANCEBANK_DEBUG=1 shows the traceback
        if os.environ.get("STANCEBANK_DEBUG"):
            raise
        print(f"stancebank: internal error: {type(exc).__name__}: {visible(exc)}", file=sys.stderr)
        return EXIT_UNREADABLE
    finally:
        if "stancebank.scan" in sys.modules:  # a scan started ahead for a read that never came
            sys.modules["stancebank.scan"].drop_ahead()


def exit_with(code: int) -> NoReturn:
    """Leave the process with ``code`` once a command has returned. The objects still alive are
    frozen first, so that the interpreter's last garbage collection does not walk them all: with
    pandas, pyarrow, datasets and scikit-learn loaded that walk took ≈ 0.3 s after an export. Nothing
    is lost: the command's files are written and closed, and exit handlers (temp folders, Spark) still
    run. Not for :func:`main` itself: tests call it in one process again and again."""
    gc.freeze()
    sys.exit(code)


def run() -> NoReturn:
    """The ``stancebank`` console script."""
    exit_with(main())


if __name__ == "__main__":
    run()
