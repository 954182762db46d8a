"""The one layer every input goes through before a parser sees its bytes.

- Only regular files are read: a FIFO, a device or a socket is refused from its ``stat`` (never
  opened, so never waited on); the file is then opened non-blocking and checked again (no race).
- JSON is bounded before any parser runs: nesting deeper than :data:`MAX_DEPTH` (the Arrow reader
  crashes on deep nesting, ``json`` recurses) and integers outside 64 bits (Arrow, pandas and the
  Label Studio ids are 64-bit) are refused naming file, line and field. The check is a byte scan:
  strings are blanked by one regular expression, the brackets left are counted with numpy.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import IO, Any

from schemas.errors import UnreadableInputError

#: Deepest nesting of arrays/objects accepted in any JSON input (our records need 5; metadata the rest).
MAX_DEPTH = 64
_INT64 = (-(2**63), 2**63 - 1)
#: A JSON string on one line (JSON strings hold no raw line break).
_STRING = re.compile(rb'"[^"\\\n]*(?:\\.[^"\\\n]*)*"')
#: Every digit to "0", every other byte to " ": integers of 19 digits or more are runs of :data:`_RUN`.
_DIGITS = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_RUN = b"0" * 19
#: A backslash escape (only inside strings in valid JSON): removed, the quotes left delimit strings.
_ESCAPE = re.compile(rb"\\.")
_KINDS = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a directory",
}


def _refuse_special(path: Path, mode: int, what: str) -> None:
    if stat.S_ISREG(mode):
        return
    kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
    raise UnreadableInputError(str(path), f"is {kind}, expected {what}")


def open_input(path: Path, what: str = "a file") -> IO[bytes]:
    """Open a regular file for reading bytes; a missing, special or unreadable path raises a clear error
    (a FIFO is refused from its stat and never opened: reading it would wait for a writer)."""
    try:
        _refuse_special(path, os.stat(path).st_mode, what)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise UnreadableInputError(str(path), "no such file") from None
    except UnreadableInputError:
        raise
    except OSError as exc:
        raise UnreadableInputError(str(path), f"cannot read: {exc.strerror}") from None
    try:
        _refuse_special(path, os.fstat(fd).st_mode, what)  # swapped for a FIFO since the stat
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def read_input(path: Path, what: str = "a file") -> bytes:
    """The bytes of a regular file (see :func:`open_input`)."""
    with open_input(path, what) as handle:
        return handle.read()


def check_json_bytes(path: Path, data: bytes, *, first_line: int = 1, depth: bool = True) -> None:
    """Refuse JSON text nested deeper than :data:`MAX_DEPTH` or holding an integer outside 64 bits,
    naming the file and line (``first_line``: the number of ``data``'s first line). ``depth=False``:
    the caller already knows the text is not nested that deep (the integers are still checked)."""
    if depth:
        check_json_depth(path, data, first_line=first_line)
    digits = data.translate(_DIGITS)  # every digit a "0": a run of 19 is found by bytes.find
    start = digits.find(_RUN)
    while start != -1:
        end = start + len(_RUN)
        while end < len(digits) and digits[end] == 0x30:
            end += 1
        _check_integer(path, data, start, end, first_line)
        start = digits.find(_RUN, end)


def check_json_depth(path: Path, data: bytes, *, first_line: int = 1) -> None:
    """Refuse JSON text nested deeper than :data:`MAX_DEPTH` (the first check of
    :func:`check_json_bytes`, on its own for a caller that scans a file block by block)."""
    if _may_be_too_deep(data):
        line = _too_deep(data)
        if line is not None:
            raise UnreadableInputError(
                str(path), f"JSON nested too deeply (more than {MAX_DEPTH} levels)", line=first_line + line
            )


def _check_integer(path: Path, data: bytes, start: int, end: int, first_line: int) -> None:
    """Refuse the run of digits ``data[start:end]`` if it is an integer token outside 64 bits."""
    before = data[start - 1 : start]
    if before == b"-":
        start, before = start - 1, data[start - 2 : start - 1]
    if (before and before in b".eE+0123456789") or (data[end : end + 1] and data[end : end + 1] in b".eE"):
        return  # part of a fraction or an exponent
    line_start = data.rfind(b"\n", 0, start) + 1
    if _ESCAPE.sub(b"", data[line_start:start]).count(b'"') % 2:
        return  # inside a string
    value = int(data[start:end])
    if _INT64[0] <= value <= _INT64[1]:
        return
    index = data.count(b"\n", 0, start)
    line_end = data.find(b"\n", start)
    field = _field_of(data[line_start : None if line_end == -1 else line_end], value)
    digits = data[start:end].decode()
    shown = digits if len(digits) <= 24 else digits[:23] + "…"
    raise UnreadableInputError(
        str(path), f"integer {shown} in {field} is outside 64 bits", line=first_line + index
    )


#: Every byte but an opening bracket and the line break (deleted by :func:`_may_be_too_deep`).
_NOT_OPENING = bytes(b for b in range(256) if b not in b"[{\n")
#: More opening brackets on one line than the bound (in the text of the openers and line breaks only).
_MANY_OPENING = re.compile(rb"[^\n]{%d}" % (MAX_DEPTH + 1))


def _may_be_too_deep(data: bytes) -> bool:
    """Whether some line has more opening brackets (in strings or not) than :data:`MAX_DEPTH`: no line
    can be nested deeper than that without. One ``bytes.translate`` that keeps only the openers and
    line breaks (a few per cent of a data file) and one regular-expression search over what is left:
    a tenth of the time of the exact scan, which runs only when this says it may find something."""
    return _MANY_OPENING.search(data.translate(None, _NOT_OPENING)) is not None


def _too_deep(data: bytes) -> int | None:
    """0-based line whose nesting (brackets outside strings, counted from the line's start) passes the
    bound, or None. Vectorised: quotes not escaped by an odd run of backslashes delimit strings."""
    import numpy as np  # here: the server helpers import this module without the data stack

    codes = np.frombuffer(data, dtype=np.uint8)
    quotes = np.flatnonzero(codes == 0x22)
    after_backslash = quotes[(quotes > 0) & (codes[np.maximum(quotes - 1, 0)] == 0x5C)]
    escaped = [q for q in after_backslash.tolist() if _backslashes_before(data, q) % 2]
    real = np.setdiff1d(quotes, np.array(escaped, dtype=quotes.dtype)) if escaped else quotes
    breaks = np.flatnonzero(codes == 0x0A)
    brackets = np.flatnonzero((codes == 0x5B) | (codes == 0x5D) | (codes == 0x7B) | (codes == 0x7D))
    lines = np.searchsorted(breaks, brackets)
    starts = np.where(lines > 0, breaks[np.maximum(lines - 1, 0)] + 1, 0) if len(breaks) else lines * 0
    outside = (np.searchsorted(real, brackets) - np.searchsorted(real, starts)) % 2 == 0
    brackets, lines = brackets[outside], lines[outside]
    if not len(brackets):
        return None
    opening = (codes[brackets] == 0x5B) | (codes[brackets] == 0x7B)
    step = np.where(opening, 1, -1).astype(np.int64)
    depth = np.cumsum(step)
    first = np.ones(len(brackets), dtype=bool)
    first[1:] = lines[1:] != lines[:-1]
    base = (depth - step)[first][np.cumsum(first) - 1]
    deep = np.flatnonzero(depth - base > MAX_DEPTH)
    return int(lines[deep[0]]) if len(deep) else None


def _backslashes_before(data: bytes, index: int) -> int:
    count = 0
    while index - count > 0 and data[index - count - 1] == 0x5C:
        count += 1
    return count


def _field_of(line: bytes, value: int) -> str:
    """Where ``value`` sits in the JSON ``line`` (``spans[0].start``), as far as it can be told."""
    try:
        parsed = json.loads(line)
    except ValueError:
        key = re.search(rb'"([^"\\]{1,80})"\s*:\s*-?\d{19,}', line)
        return f"field {key.group(1).decode(errors='replace')!r}" if key else "a field"
    found = _path_to(parsed, value, "")
    return f"field {found!r}" if found else "a field"


def _path_to(node: Any, value: int, prefix: str) -> str | None:
    if type(node) is int and node == value:
        return prefix or "(the value)"
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        where = f"{prefix}[{key}]" if isinstance(key, int) else f"{prefix}.{key}" if prefix else str(key)
        found = _path_to(child, value, where)
        if found:
            return found
    return None


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def parse_json_line(path: Path, number: int, line: str, *, checked: bool = False) -> Any:
    """One JSONL line parsed; malformed, too deeply nested JSON or a too large integer raises naming
    file and line. ``checked``: :func:`check_json_bytes` already ran over the whole file."""
    if not checked:
        check_json_bytes(path, line.encode("utf-8", errors="surrogatepass"), first_line=number)
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
            # json's "Unterminated string starting at" ends with the word the position follows
            str(path),
            f"invalid JSON: {exc.msg.removesuffix(' at')} at column {exc.colno}",
            line=number,
        ) from None
    except RecursionError:
        raise UnreadableInputError(str(path), "JSON nested too deeply", line=number) from None
