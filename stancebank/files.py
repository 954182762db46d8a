"""Writing files safely: atomic writes (temp file + rename), folder swaps, compact JSONL.

No pandas here: the Label Studio server helpers and the command line use these without loading the
data stack.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from schemas.errors import UnreadableInputError


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temp file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def replace_dir(staging: Path, out: Path) -> None:
    """Replace the folder ``out`` by ``staging`` with renames only (the old copy is removed last)."""
    old = out.with_name(f".{out.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        os.replace(out, old)
    os.replace(staging, out)
    shutil.rmtree(old, ignore_errors=True)


def dumps_jsonl(records: Iterable[dict[str, Any]], *, compact: bool = False) -> str:
    """One JSON object per line, keys in the given order, non-ASCII kept readable. ``compact``: no
    spaces after separators, written by orjson (about 10× faster: ``pull`` writes 100k annotations)."""
    if compact:
        import orjson

        return b"".join(orjson.dumps(r) + b"\n" for r in records).decode("utf-8")
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def open_input(path: Path, what: str = "a file") -> IO[bytes]:
    """Open an input file for reading bytes; a missing, folder or unreadable path raises a clear error."""
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise UnreadableInputError(str(path), "no such file") from None
    except IsADirectoryError:
        raise UnreadableInputError(str(path), f"is a directory, expected {what}") from None
    except OSError as exc:
        raise UnreadableInputError(str(path), f"cannot read: {exc.strerror}") from None


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def parse_json_line(path: Path, number: int, line: str) -> Any:
    """One JSONL line parsed; malformed or too deeply nested JSON raises naming file and line."""
    try:
        value = json.loads(line)
        if "\\u" in line and _SURROGATE_ESCAPE.search(line):
            json.dumps(value, ensure_ascii=False).encode("utf-8")  # a lone surrogate cannot be encoded
        return value
    except UnicodeEncodeError:
        raise UnreadableInputError(
            str(path), "a \\u escape is half of a surrogate pair, not a character", line=number
        ) from None
    except json.JSONDecodeError as exc:
        raise UnreadableInputError(
            str(path), f"invalid JSON: {exc.msg} at column {exc.colno}", line=number
        ) from None
    except RecursionError:
        raise UnreadableInputError(str(path), "JSON nested too deeply", line=number) from None


def read_text(path: Path, what: str = "a text file") -> str:
    """A UTF-8 text file's content, with a clear error when it is missing, a folder or not UTF-8."""
    with open_input(path, what) as handle:
        data = handle.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableInputError(str(path), f"not UTF-8 (byte {exc.start})") from None
