"""The output-path guard: every command that writes a folder or a file asks here first.

An output must not be, contain or hold any input, must not be (or contain) the project root or the
current folder, must not be a symbolic link or a special file, and must not be a file where a folder is
expected (or the reverse). A folder is only replaced or written into when it is new, empty, or carries
the marker :data:`MARKER` that the same command wrote into it earlier; any other non-empty folder is
refused with one line and nothing is touched. The checks run before anything is created or moved.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Iterable
from pathlib import Path

from schemas.errors import StanceBankError

#: Written into every folder a command creates; the only proof that the folder may be replaced.
MARKER = ".stancebank-output.json"


class OutputPathError(StanceBankError, ValueError):
    """An output path that would destroy or mix with the user's files."""


def _resolved(path: Path) -> Path:
    return Path(path).expanduser().resolve()


def _within(inner: Path, outer: Path) -> bool:
    """``inner`` is ``outer`` or lies inside it (both resolved)."""
    return inner == outer or outer in inner.parents


def marker_command(folder: Path) -> str | None:
    """The command named by ``folder``'s marker, or None (no marker, or not ours)."""
    try:
        info = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    command = info.get("command") if isinstance(info, dict) else None
    return command if isinstance(command, str) and info.get("written_by") == "stancebank" else None


def holds_only_outputs(folder: Path) -> bool:
    """Every entry of ``folder`` is a folder that stancebank wrote (its marker names a command)."""
    entries = list(folder.iterdir())
    return bool(entries) and all(
        e.is_dir() and not e.is_symlink() and marker_command(e) is not None for e in entries
    )


def marker_text(command: str) -> str:
    return json.dumps({"written_by": "stancebank", "command": command}) + "\n"


def write_marker(folder: Path, command: str) -> None:
    from stancebank.files import write_atomic

    write_atomic(folder / MARKER, marker_text(command))


def _check_common(out: Path, given: Path, inputs: Iterable[Path], roots: Iterable[Path]) -> None:
    if given.is_symlink():
        raise OutputPathError(f"{given}: is a symbolic link; give the real path as output")
    for root in map(_resolved, roots):
        if _within(root, out):
            what = "the project folder" if (root / "stancebank.toml").exists() else "the current folder"
            raise OutputPathError(f"{given}: is or contains {what} {root}; refusing to write there")
    for source in map(_resolved, inputs):
        if _within(source, out):
            raise OutputPathError(f"{given}: is or contains the input {source}; choose another output")
        if out != source and source in out.parents and not source.is_dir():
            raise OutputPathError(f"{given}: lies inside the input file {source}")


def _checked(out: Path, inputs: Iterable[Path], roots: Iterable[Path]) -> tuple[Path, Path, int | None]:
    """(the path as given, resolved, its st_mode or None when it does not exist) once the checks that
    hold for files and folders alike have passed."""
    given = Path(out)
    resolved = _resolved(given)
    _check_common(resolved, given, inputs, roots)
    try:
        return given, resolved, resolved.stat().st_mode
    except FileNotFoundError:
        return given, resolved, None


def check_output_dir(
    out: Path,
    command: str,
    *,
    inputs: Iterable[Path] = (),
    roots: Iterable[Path] = (),
    container: bool = False,
) -> Path:
    """The resolved folder ``out`` if ``command`` may replace or write into it; else OutputPathError.

    ``inputs``: every file and folder the command reads (the output may lie inside an input *folder*,
    like data/hf in data/, as long as it holds none of the files read). ``roots``: the project root and
    the current folder. ``container``: the command only adds folders of its own inside ``out`` (train's
    reports/<task>/), so a folder holding nothing but stancebank outputs may receive them too."""
    given, resolved, mode = _checked(out, inputs, roots)
    if mode is None:
        return resolved
    if not stat.S_ISDIR(mode):
        raise OutputPathError(f"{given}: exists and is not a folder; refusing to replace it")
    if any(resolved.iterdir()):
        found = marker_command(resolved)
        if found is None and container and holds_only_outputs(resolved):
            return resolved  # e.g. reports/ holding only agreement/: train adds its task folders
        if found is None:
            raise OutputPathError(
                f"{given}: a non-empty folder that stancebank did not write (no {MARKER}); refusing to "
                "touch it: choose a new or empty folder"
            )
        if found != command:
            raise OutputPathError(
                f"{given}: holds the output of 'stancebank {found}', not of '{command}'; refusing to touch it"
            )
    return resolved


def check_output_file(out: Path, *, inputs: Iterable[Path] = (), roots: Iterable[Path] = ()) -> Path:
    """The resolved file path ``out`` if it may be (over)written: not an input, a folder or a special
    file, not a symbolic link; else OutputPathError."""
    given, resolved, mode = _checked(out, inputs, roots)
    if mode is None:
        return resolved
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
        raise OutputPathError(f"{given}: exists and is {kind}; refusing to replace it with a file")
    return resolved


def roots_of(args: object) -> list[Path]:
    """The project root of a command (and the current folder), which no output may be or contain."""
    from stancebank.project import project_of

    return [project_of(args).root, Path.cwd()]


def corpus_inputs(paths: Iterable[Path]) -> list[Path]:
    """The paths a corpus command was given plus every data file they expand to."""
    from stancebank.corpus import data_files

    given = [Path(p) for p in paths]
    try:
        return [*given, *data_files(given)]
    except (OSError, ValueError):  # the reader reports it with its own line
        return given
