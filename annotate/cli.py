"""``stancebank studio …``: run Label Studio and move tasks and annotations in and out of it."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from stancebank.project import DATA, STUDIO_TITLE, project_of
from stancebank.terminal import positive_int

if TYPE_CHECKING:
    from annotate.client import Studio


def _url(args: argparse.Namespace, home: Path) -> str:
    from annotate import server

    if args.url:
        return str(args.url)
    if os.environ.get("STANCEBANK_LS_URL"):
        return os.environ["STANCEBANK_LS_URL"]
    state = server.read_state(home)
    return str(state["url"]) if state else f"http://127.0.0.1:{server.DEFAULT_PORT}"


def _studio(args: argparse.Namespace) -> Studio:
    from annotate import server
    from annotate.client import Studio

    home = server.studio_home(project_of(args))
    token = os.environ.get("LABEL_STUDIO_API_KEY") or server.credentials(home).token
    return Studio(_url(args, home), token, timeout=args.timeout, retries=args.retries)


def cmd_install(args: argparse.Namespace) -> int:
    from annotate import server

    binary = server.install(server.studio_home(project_of(args)))
    print(f"label-studio {server.LABEL_STUDIO_VERSION} ready: {binary}")
    return 0


def cmd_start(args: argparse.Namespace) -> int:
    from annotate import server

    home = server.studio_home(project_of(args))
    state = server.start(home, port=args.port)
    creds = server.credentials(home)
    print(f"Label Studio is up at {state['url']} (pid {state['pid']}, data in {home / 'data'})")
    print(f"Log in as {creds.email}; the password is in {home / 'credentials.json'} (mode 0600).")
    if args.show_token:
        print(f"API token: {creds.token}")
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    from annotate import server

    home = server.studio_home(project_of(args))
    stale = server.clear_stale(home)
    if stale is not None:
        print(_stale_message(stale))
    stopped = server.stop(home)
    print("Label Studio stopped" if stopped else "Label Studio was not running")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from annotate import server

    home = server.studio_home(project_of(args))
    stale = server.clear_stale(home)
    if stale is not None:
        print(_stale_message(stale))
    state = server.status(home)
    if state is None:
        print("Label Studio is not running")
        return 1
    print(f"Label Studio is up at {state['url']} (pid {state['pid']})")
    if args.show_token:
        print(f"API token: {server.credentials(home).token}")
    return 0


def _stale_message(stale: dict[str, object]) -> str:
    if "pid" not in stale:
        return "cleared an unreadable server state file"
    pid = stale["pid"]
    return f"cleared stale server state: pid {pid} is not this project's Label Studio (not signalled)"


def cmd_config(args: argparse.Namespace) -> int:
    from annotate.config import config_hash, label_config

    config = label_config(document=args.document_labels)
    print(config, end="")
    if args.hash:
        print(f"<!-- sha256 {config_hash(config)} -->")
    return 0


def cmd_push(args: argparse.Namespace) -> int:
    from annotate.push import push
    from stancebank.terminal import visible
    from stancebank.validate import load_valid

    corpus = load_valid(args.data)
    report = push(
        _studio(args),
        corpus,
        title=args.title,
        force=args.force,
        batch_size=args.batch_size,
        predictions=args.predictions,
        document_labels=args.document_labels,
    )
    print(
        visible(
            f"project {args.title!r} (id {report.project_id}): {report.created} task(s) imported, "
            f"{report.existing} already there, {report.predictions} prediction(s) sent"
        )
    )
    if report.document_labels:
        print(f"{report.document_labels} document-level label(s) sent as pre-annotations")
    if report.changed:
        print(
            f"{len(report.changed)} task(s) whose article text changed since they were pushed "
            f"(not re-imported): {visible(', '.join(report.changed))}"
        )
        return 1
    return 0


def cmd_pull(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from annotate.pull import convert_snapshot, pull
    from stancebank.terminal import markup_safe, visible

    data_dir = args.data
    if args.from_snapshot:
        report = convert_snapshot(
            args.from_snapshot,
            data_dir=data_dir,
            jobs=args.jobs,
            guideline_version=args.project.guideline_version,
        )
    else:
        report = pull(
            _studio(args),
            title=args.title,
            data_dir=data_dir,
            jobs=args.jobs,
            guideline_version=args.project.guideline_version,
        )
    if report.rejects:
        table = Table(title=f"{report.rejected} rejected annotation(s)")
        for column in ("task", "annotation", "annotator", "reason"):
            table.add_column(column, overflow="fold")
        for r in report.rejects:
            cells = (r.task_id, r.annotation_id, r.annotator or "", r.reason)
            table.add_row(*(markup_safe(cell) for cell in cells))
        Console(width=160).print(table)
    print(visible(f"snapshot: {report.snapshot}"))
    print(f"exported {report.exported} = converted {report.converted} + rejected {report.rejected}")
    if report.predictions_only:
        print(f"{report.predictions_only} task(s) have predictions but no annotation (nothing to pull)")
    if report.converted:
        print(visible(f"written: {report.written}"))
    print(visible(f"rejects: {report.rejects_file}"))
    return 1 if report.rejected else 0


DOCUMENT_HELP = (
    "add the document-level choices (related, doc_stance) to the config; automatic when the data has "
    "document-level labels or the project already offers them"
)


def connection(parser: argparse.ArgumentParser) -> None:
    """Options of every verb that talks to a server."""
    parser.add_argument("--url", help="server URL (default: the one `studio start` recorded)")
    parser.add_argument("--project", dest="title", default=STUDIO_TITLE, help="Label Studio project title")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    parser.add_argument("--retries", type=int, default=3, help="retries on transient errors")


def register(sub: argparse._SubParsersAction) -> None:
    from annotate import server

    studio = sub.add_parser(
        "studio",
        help="run Label Studio; push tasks, pull annotations",
        description="A private Label Studio on 127.0.0.1 and the bridge to it.",
    )
    verbs = studio.add_subparsers(dest="studio_command", required=True, metavar="VERB", help="what to do")

    verbs.add_parser(
        "install",
        help="install label-studio into its own venv",
        description="Install the pinned label-studio into the studio home's venv/ "
        "(the project's [studio] home, or $STANCEBANK_STUDIO_HOME).",
    ).set_defaults(func=cmd_install)
    start = verbs.add_parser(
        "start",
        help="start the server on 127.0.0.1",
        description="Install if needed, start on 127.0.0.1, wait for /health.",
    )
    start.add_argument("--port", type=int, default=server.DEFAULT_PORT, help="port on 127.0.0.1")
    start.add_argument("--show-token", action="store_true", help="also print the API token")
    start.set_defaults(func=cmd_start)
    verbs.add_parser("stop", help="stop the server", description="SIGTERM the recorded server.").set_defaults(
        func=cmd_stop
    )
    status = verbs.add_parser(
        "status", help="is the server up?", description="Exit 0 when the server answers /health, else 1."
    )
    status.add_argument("--show-token", action="store_true", help="also print the API token")
    status.set_defaults(func=cmd_status)
    config = verbs.add_parser(
        "config",
        help="print the labelling config",
        description="Print the Label Studio XML generated from the vocabulary.",
    )
    config.add_argument("--hash", action="store_true", help="also print its SHA-256")
    config.add_argument("--document-labels", action="store_true", help=DOCUMENT_HELP)
    config.set_defaults(func=cmd_config)
    push_p = verbs.add_parser(
        "push",
        help="import tasks (idempotent) and predictions",
        description="Create or update the project and import every (article, target) "
        "task not already there; optionally attach predictions.",
    )
    push_p.add_argument("data", nargs="*", type=Path, default=[DATA], help="data folders or .jsonl files")
    connection(push_p)
    push_p.add_argument("--force", action="store_true", help="update a config even if it orphans labels")
    push_p.add_argument("--batch-size", type=int, default=500, help="tasks per import request")
    push_p.add_argument("--predictions", type=Path, help="JSONL of predictions to attach")
    push_p.add_argument("--document-labels", action="store_true", help=DOCUMENT_HELP)
    push_p.set_defaults(func=cmd_push)
    pull_p = verbs.add_parser(
        "pull",
        help="export, convert and validate annotations into data/",
        description="Snapshot the full export, convert it into "
        "data/annotations/ls-<project>-<project id>.jsonl, and list what was rejected and why.",
    )
    pull_p.add_argument(
        "data",
        nargs="?",
        type=Path,
        default=DATA,
        help="data folder that gets annotations/ls-<title>-<project id>.jsonl",
    )
    connection(pull_p)
    pull_p.add_argument(
        "--from-snapshot",
        type=Path,
        help="convert a saved *.export.json instead of exporting (offline; needs its *.meta.json beside it)",
    )
    pull_p.add_argument(
        "--jobs",
        type=positive_int,
        metavar="N",
        help="processes converting the export's batches side by side (default: the cores this process "
        "may use); the output is the same for any N",
    )
    pull_p.set_defaults(func=cmd_pull)
