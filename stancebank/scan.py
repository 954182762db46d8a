"""The first pass over annotation files, before anything is parsed: which files a data folder holds,
where each chunk of lines starts, each line's annotation-id key, and the error the careful reader would
raise first (empty file, byte-order mark, nesting, 64-bit integers).

Light on purpose (numpy and the standard library): a command starts the scan in a forked process
(:func:`scan_ahead`) before it imports pandas and pandera, so the scan runs while they load and while
the articles are read; :func:`stancebank.corpus.read_chunked` takes that scan over.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path

import numpy as np

from schemas.errors import UnreadableInputError
from stancebank.inputs import check_json_bytes, check_json_depth, open_input

#: Annotation lines per chunk when a corpus is read in chunks (:func:`read_chunked`).
CHUNK_LINES = 20_000
#: Cut points the scan records per chunk of ``size`` lines (at least): chunks can then be cut shorter,
#: so that their number is a multiple of the workers that take them (:meth:`Scan.chunks`).
MARKS_PER_CHUNK = 32
#: Bytes read at a time by the scan of an annotation file.
_BLOCK = 16 << 20
#: An annotation line's id at its start (how every writer of ours puts it), else it is parsed.
_LEADING_ID = re.compile(rb'[ \t\r]*\{[ \t\r]*"annotation_id"[ \t\r]*:[ \t\r]*"([^"\\]*)"')
#: The key of a line whose annotation id is no string (null, missing, a number, an unreadable line):
#: these lines share one key, as their spans share the null annotation id.
NO_ID = hash(b"\x00 no annotation id")


def classify(path: Path) -> str:
    """Which table a file holds, from its name."""
    name = path.name
    if name.startswith("articles"):
        return "articles"
    if name.startswith("targets"):
        return "targets"
    return "annotations"


def data_files(paths: Iterable[Path]) -> list[Path]:
    """Expand directories into their data files; add the article/target files a lone file needs."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            present = _folder_files(path)
            if not present and (path / "stancebank.toml").is_file():  # a project folder: its data
                from stancebank.project import load_project

                present = _folder_files(load_project(path).data_dir)
            if not present:
                raise UnreadableInputError(
                    str(path), "no data files (articles.jsonl, targets.jsonl, annotations/*.jsonl)"
                )
            files += present
        else:
            files.append(path)
    kinds = {classify(f) for f in files}
    for needed in ("articles", "targets"):
        if needed not in kinds:
            files += _nearest(files, f"{needed}.jsonl")
    return list(dict.fromkeys(files))


def _folder_files(path: Path) -> list[Path]:
    found = [path / "articles.jsonl", path / "targets.jsonl"]
    found += sorted((path / "annotations").glob("**/*.jsonl"))
    return [f for f in found if f.exists()]


def _nearest(files: list[Path], name: str) -> list[Path]:
    for file in files:
        for folder in file.resolve().parents:
            if (folder / name).exists():
                return [folder / name]
    return []


def empty_message(path: Path) -> str:
    """What a data file without a record is told (a project's articles and targets are empty from
    ``init`` until its first import: say how to fill them)."""
    table = classify(path)
    if table == "annotations":
        return "file is empty"
    return f"file is empty: no {table} yet (add them with `stancebank import text PATH…` or an importer)"


BOM = b"\xef\xbb\xbf"
BOM_MESSAGE = "starts with a UTF-8 byte-order mark; save without BOM"


@dataclass
class Scan:
    """What the first pass over an annotation file found: each non-blank line's number and the key of
    its annotation id, and the error the careful reader would raise before parsing a line (empty file,
    byte-order mark, nesting, 64-bit integers), raised when the file's turn comes."""

    lines: np.ndarray
    keys: np.ndarray
    error: UnreadableInputError | None = None
    #: the byte offset of line 1, 1 + unit, 1 + 2 × unit …, then the file's size
    cuts: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    #: lines in the file, blank ones included
    count: int = 0
    #: lines between two cuts (a divisor of the chunk size the scan was made for, see :func:`mark_unit`)
    unit: int = 1

    def chunks(self, size: int, spread: int = 1) -> list[tuple[int, int, int, int]]:
        """(first line, lines, start byte, end byte) of each chunk of at most ``size`` lines (a multiple
        of :attr:`unit`). ``spread`` 1: chunks of ``size`` lines, the last shorter. ``spread`` N (the
        workers that take the chunks): as many chunks as ``size`` needs, rounded up to a multiple of N,
        their lines shared out evenly, so that no worker is left idle while another takes a last chunk
        alone (five chunks of 20,000 lines on two workers become six of ≈ 16,700)."""
        marks = len(self.cuts) - 1
        most = max(1, size // self.unit)  # marks a chunk may hold
        count = -(-marks // most)
        if spread > 1 and count > 1:
            count = min(marks, -(-count // spread) * spread)
            share, more = divmod(marks, count)
            sizes = [share + 1] * more + [share] * (count - more)
        else:
            sizes = [min(most, marks - k * most) for k in range(count)]
        found, at = [], 0
        for marked in sizes:
            lines = min(marked * self.unit, self.count - at * self.unit)
            found.append((1 + at * self.unit, lines, int(self.cuts[at]), int(self.cuts[at + marked])))
            at += marked
        return found


def mark_unit(size: int) -> int:
    """Lines between two cut points of a scan for chunks of ``size`` lines: the largest divisor of
    ``size`` that leaves :data:`MARKS_PER_CHUNK` or more of them in a chunk (1 below that many lines)."""
    unit = max(1, size // MARKS_PER_CHUNK)
    while size % unit:
        unit -= 1
    return unit


def _blocks(path: Path) -> Iterator[bytes]:
    """An annotation file in blocks of whole lines. The partial line a read ends with is read again
    with the next block (a seek back), not joined to it: each block is copied once, not twice (a
    tenth of the scan's time)."""
    with open_input(path, "a .jsonl file") as handle:
        rest = b""
        while block := handle.read(_BLOCK):
            if rest:  # a line longer than a block, read so far
                block = rest + block
            cut = block.rfind(b"\n") + 1
            if cut == 0:
                rest = block
                continue
            rest = b""
            if cut < len(block):
                handle.seek(cut - len(block), os.SEEK_CUR)
                block = block[:cut]
            yield block
        if rest:
            yield rest


def _line_ends(block: bytes) -> np.ndarray:
    """The offset just past each line of a block (its line break, or the block's end)."""
    ends = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 0x0A) + 1
    return ends if block.endswith(b"\n") else np.append(ends, len(block))


def _scan(path: Path, size: int = CHUNK_LINES) -> Scan:
    """The first pass over an annotation file, with cut points for chunks of ``size`` lines."""
    lines: list[np.ndarray] = []  # per block (a Python int per line would cost 5x the memory)
    keys: list[np.ndarray] = []
    cuts: list[np.ndarray] = [np.zeros(1, np.int64)]
    empty, depth, integer = True, None, None
    first, offset = 1, 0  # number of the block's first line, the block's offset in the file
    unit = mark_unit(size)
    try:
        for block in _blocks(path):
            if first == 1 and block.startswith(BOM):
                return Scan(np.zeros(0, np.int64), np.zeros(0, np.int64), _error(path, BOM_MESSAGE, 1))
            empty = empty and (not block or block.isspace())
            if depth is None:
                try:
                    check_json_depth(path, block, first_line=first)
                except UnreadableInputError as exc:
                    depth = exc
            if integer is None and depth is None:
                try:
                    check_json_bytes(path, block, first_line=first, depth=False)
                except UnreadableInputError as exc:
                    integer = exc
            ends = _line_ends(block)
            kept, found = _keyed_lines(block, ends)
            lines.append(kept + first)
            keys.append(found)
            last = np.arange(first, first + len(ends))  # each line's number: a cut after each unit
            cuts.append(ends[last % unit == 0] + offset)
            first += len(ends)
            offset += len(block)
    except UnreadableInputError as exc:
        depth = exc  # the file cannot be opened
    error = _error(path, empty_message(path)) if empty and depth is None else depth or integer
    none = np.zeros(0, np.int64)
    bounds = np.concatenate(cuts).astype(np.int64)
    if bounds[-1] != offset:
        bounds = np.append(bounds, offset)
    return Scan(np.concatenate([none, *lines]), np.concatenate([none, *keys]), error, bounds, first - 1, unit)


#: Bytes ``bytes.strip`` removes (a line of only these is blank).
_BLANK_BYTES = np.array([b in b" \t\n\r\x0b\x0c" for b in range(256)])
NON_BLANK = re.compile(rb"[^ \t\n\r\x0b\x0c]")


def _keyed_lines(block: bytes, ends: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The 0-based numbers of the block's non-blank lines and the keys of their annotation ids
    (:func:`_key`), column-wise: a line that starts with a non-blank byte is not blank, only the others
    are looked at one by one; each id is matched in place (no line is copied unless it must be parsed).
    ``ends``: the block's :func:`_line_ends`, when known."""
    if not block:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if ends is None:
        ends = _line_ends(block)  # each at least 1 and each start before the block's end
    starts = np.concatenate(([0], ends[:-1]))
    codes = np.frombuffer(block, dtype=np.uint8)
    stops = ends - (codes[ends - 1] == 0x0A)
    doubtful = (stops == starts) | _BLANK_BYTES[codes[starts]]
    kept = ~doubtful
    for number in np.flatnonzero(doubtful).tolist():
        kept[number] = bool(block[starts[number] : stops[number]].strip())
    numbers = np.flatnonzero(kept)
    match = _LEADING_ID.match
    keys = [
        hash(found.group(1)) if (found := match(block, start, stop)) else _key(block[start:stop])
        for start, stop in zip(starts[numbers].tolist(), stops[numbers].tolist(), strict=True)
    ]
    return numbers.astype(np.int64), np.array(keys, dtype=np.int64)


def _error(path: Path, message: str, line: int | None = None) -> UnreadableInputError:
    return UnreadableInputError(str(path), message, line=line)


def _key(raw: bytes) -> int:
    """A hash of the line's annotation id (equal ids, equal keys; a collision only holds more back)."""
    found = _LEADING_ID.match(raw)
    if found:
        return hash(found.group(1))
    try:
        record = json.loads(raw)
    except ValueError:
        return NO_ID
    value = record.get("annotation_id") if isinstance(record, dict) else None
    return hash(value.encode("utf-8", "surrogatepass")) if isinstance(value, str) else NO_ID


#: Annotation bytes from which the scan runs in a forked process beside the reading and preparing of
#: the articles (below, forking costs more than the overlap saves).
SCAN_APART_BYTES = 32 << 20


class Scans:
    """The scans (:func:`_scan`) of the annotation files: made in a process forked now, while this one
    reads and prepares the articles, when the files are large; else here, when first asked for."""

    def __init__(self, files: list[Path], size: int) -> None:
        self.files, self.size = files, size
        self.pool: Pool | None = None
        self.pending: AsyncResult[list[Scan]] | None = None
        if input_bytes(files) >= SCAN_APART_BYTES and "fork" in mp.get_all_start_methods():
            self.pool = mp.get_context("fork").Pool(1)
            self.pending = self.pool.apply_async(_scan_all, (files, size))

    @classmethod
    def of(cls, files: list[Path], size: int) -> Scans:
        """The scan :func:`scan_ahead` started for these files and chunk size, else one started now."""
        ahead = _AHEAD.pop((tuple(files), size), None)
        return ahead if ahead is not None else cls(files, size)

    def result(self) -> list[Scan]:
        if self.pending is None:
            return _scan_all(self.files, self.size)
        try:
            return self.pending.get()
        finally:
            self.close()

    def close(self) -> None:
        """Stop the forked process, also while it scans (nothing will ask for the result)."""
        if self.pool is not None:
            self.pool.terminate()
            self.pool = None


#: Scans started by :func:`scan_ahead` that no read has taken over yet: (files, chunk size) -> scan.
_AHEAD: dict[tuple[tuple[Path, ...], int], Scans] = {}


def scan_ahead(paths: Iterable[Path | str], size: int = CHUNK_LINES) -> None:
    """Start the scan of the annotation files among ``paths`` now, in a forked process, when they are
    large: a command calls this before it imports pandas and pandera, so that the scan runs while they
    load and the articles are read; the read of the same files that follows takes it over
    (:meth:`Scans.of`). Data that cannot be listed is left to that read, which names the problem."""
    try:
        files = data_files(Path(p) for p in paths)
    except Exception:
        return  # any problem with the data is the read's to report, with its own message
    annotation_files = [f for f in files if classify(f) == "annotations"]
    if not all(f.is_file() for f in annotation_files):
        return  # the read refuses it, naming the file
    key = (tuple(annotation_files), size)
    if key not in _AHEAD:
        scans = Scans(annotation_files, size)
        if scans.pending is not None:
            _AHEAD[key] = scans


def drop_ahead() -> None:
    """Stop the scans :func:`scan_ahead` started that no read took over (the command ended first)."""
    while _AHEAD:
        _AHEAD.popitem()[1].close()


def _scan_all(files: list[Path], size: int) -> list[Scan]:
    return [_scan(path, size) for path in files]


def input_bytes(files: list[Path]) -> int:
    """The bytes of the regular files among ``files`` (a missing one counts 0: it is refused in its turn)."""
    total = 0
    for path in files:
        try:
            status = path.stat()
        except OSError:
            continue  # refused in its turn, naming the file
        total += status.st_size if stat.S_ISREG(status.st_mode) else 0
    return total
