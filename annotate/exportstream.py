"""Cutting a Label Studio JSON export (one top-level array of tasks) into batches of tasks, streaming.

The file is read in blocks (4 MiB); numpy finds, per block, the quotes that are not escaped (a quote
after an odd run of backslashes is part of a string), so which brackets and commas are outside strings,
and the bracket depth before each. A comma at depth 1 separates two tasks. Nothing is parsed: a batch
is the file's own bytes from its first task to its last (commas and whitespace included), so
``b"[" + batch.region + b"]"`` is a JSON array of exactly those tasks, byte for byte as exported.
Memory: one block plus the batch being gathered.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from schemas.errors import UnreadableInputError
from stancebank.inputs import MAX_DEPTH, open_input

BLOCK = 4 << 20
BATCH = 500  # tasks per batch (about 7 MB of export at 1–3 annotations per task)
_QUOTE, _BACKSLASH, _COMMA = 34, 92, 44
_OPEN = (91, 123)  # [ {
_CLOSE = (93, 125)  # ] }
_SPACE = b" \t\r\n"


@dataclass(frozen=True)
class Batch:
    region: bytes  # the tasks as in the file, with the commas between them
    tasks: int
    offset: int  # byte offset of the region in the file
    line: int  # line number of the region's first byte
    shallow: bool = False  # nested at most MAX_DEPTH - 2 levels deep in the file (no depth check needed)

    def array(self) -> bytes:
        return b"[" + self.region + b"]"


class _Scanner:
    """Structural characters of a JSON text fed block by block: (position, depth before, byte) of the
    brackets and commas outside strings at depth 0 and 1 (inside a task nothing is kept)."""

    def __init__(self) -> None:
        self.in_string = False
        self.backslashes = 0  # length of the backslash run that ended the fed bytes
        self.depth = 0
        self.seen = 0  # bytes fed so far
        self.deepest = 0  # the deepest nesting seen so far

    def feed(self, block: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        data = np.frombuffer(block, dtype=np.uint8)
        quotes = np.flatnonzero(data == _QUOTE)
        if len(quotes):
            quotes = quotes[~self._escaped(block, quotes)]
        trailing = len(block) - len(block.rstrip(b"\\"))
        self.backslashes = trailing + self.backslashes if trailing == len(block) else trailing
        marks = np.flatnonzero(
            (data == _COMMA)
            | (data == _OPEN[0])
            | (data == _OPEN[1])
            | (data == _CLOSE[0])
            | (data == _CLOSE[1])
        )
        before = np.searchsorted(quotes, marks) + int(self.in_string)
        marks = marks[before % 2 == 0]  # outside strings
        kinds = data[marks]
        opens = (kinds == _OPEN[0]) | (kinds == _OPEN[1])  # two comparisons: cheaper than np.isin
        delta = opens.astype(np.int64) - ((kinds == _CLOSE[0]) | (kinds == _CLOSE[1])).astype(np.int64)
        depth = self.depth + np.cumsum(delta) - delta
        if len(delta):
            self.depth = int(depth[-1] + delta[-1])
            self.deepest = max(self.deepest, int(depth.max()) + 1)
        self.in_string ^= bool(len(quotes) % 2)
        keep = (depth <= 0) | ((depth == 1) & ~opens)
        positions = marks[keep] + self.seen
        self.seen += len(data)
        return positions, depth[keep], kinds[keep]

    def _escaped(self, block: bytes, quotes: np.ndarray) -> np.ndarray:
        """Per quote: is it escaped (after an odd run of backslashes, the previous block's included)?
        Only quotes right after a backslash are looked at (few), one by one."""
        data = np.frombuffer(block, dtype=np.uint8)
        odd = np.zeros(len(quotes), dtype=bool)
        after = quotes > 0
        suspects = np.flatnonzero(after)[data[quotes[after] - 1] == _BACKSLASH].tolist()
        if quotes[0] == 0 and self.backslashes % 2:
            odd[0] = True
        for index in suspects:
            position = int(quotes[index])
            run = 0
            while run < position and block[position - run - 1] == _BACKSLASH:
                run += 1
            if run == position:
                run += self.backslashes
            odd[index] = bool(run % 2)
        return odd


def batches(path: Path, size: int = BATCH, *, block: int = BLOCK) -> Iterator[Batch]:
    """The export's tasks, ``size`` at a time. Raises :class:`UnreadableInputError` naming ``path``
    for a top level that is not an array (or has anything after it) and for a truncated file."""
    cutter = _Cutter(path, size)
    with open_input(path, "a Label Studio export") as handle:
        while chunk := handle.read(block):
            yield from cutter.feed(chunk)
    cutter.end()


class _Cutter:
    """The state of one cut: the bytes of the batch being gathered and where they start."""

    def __init__(self, path: Path, size: int) -> None:
        self.path, self.size = path, size
        self.scanner = _Scanner()
        self.pending = bytearray()  # file bytes from ``start`` on (before the array: from the file's start)
        self.start = -1  # offset of the current region (after the opening bracket or a cut comma)
        self.closed = False
        self.after_comma = False  # the current region began after a comma (so may not be empty)
        self.count = 0  # top-level commas in the current region
        self.lines = 1  # line number at the start of ``pending``

    def _error(self, message: str) -> UnreadableInputError:
        return UnreadableInputError(str(self.path), message)

    def feed(self, chunk: bytes) -> Iterator[Batch]:
        base = self.scanner.seen
        positions, depth, kinds = self.scanner.feed(chunk)
        if self.start < 0 or self.closed:
            _check_outside(self.path, chunk, base, positions, self.start, self.closed)
        self.pending += chunk
        for position, level, kind in zip(positions.tolist(), depth.tolist(), kinds.tolist(), strict=True):
            if self.closed:
                break
            batch = self._mark(position, level, kind)
            if batch is not None:
                yield batch
        if self.start < 0 and not positions.size and bytes(self.pending).strip(_SPACE):
            raise self._error("a full JSON export is a list of tasks")
        if self.closed:
            self.pending.clear()

    def _mark(self, position: int, level: int, kind: int) -> Batch | None:
        """One bracket or comma at depth 0 or 1: opens the array, separates tasks or closes it."""
        if level == 0 and self.start < 0:
            if kind != _OPEN[0]:
                raise self._error("a full JSON export is a list of tasks")
            self._drop(position + 1 - (self.scanner.seen - len(self.pending)))
            self.start = position + 1
            return None
        if level == 0:
            raise self._error(f"not a JSON export: unbalanced {chr(kind)!r} at byte {position}")
        if kind == _CLOSE[1]:
            raise self._error(f"not a JSON export: unbalanced '}}' at byte {position}")
        if kind == _COMMA:
            self.count += 1
            if self.count < self.size:
                return None
            batch = self._region(position, self.count)
            self.start, self.count, self.after_comma = position + 1, 0, True
            return batch
        return self._close(position)

    def _close(self, position: int) -> Batch | None:
        cut = position - self.start
        tail = bytes(self.pending[cut + 1 :])
        batch = None
        if bytes(self.pending[:cut]).strip(_SPACE):
            batch = self._region(position, self.count + 1)
        elif self.count or self.after_comma:
            raise self._error(f"not a JSON export: a trailing comma before byte {position}")
        self.closed = True
        if tail.strip(_SPACE):
            at = position + 1 + len(tail) - len(tail.lstrip(_SPACE))
            raise self._error(f"not a JSON export: text after the array at byte {at}")
        return batch

    def _region(self, position: int, tasks: int) -> Batch:
        """The batch of the bytes from ``start`` to ``position`` (a comma or the closing bracket)."""
        cut = position - self.start
        batch = Batch(
            bytes(self.pending[:cut]),
            tasks,
            self.start,
            self.lines,
            shallow=self.scanner.deepest + 2 <= MAX_DEPTH,
        )
        self._drop(cut + 1)
        return batch

    def _drop(self, length: int) -> None:
        self.lines += self.pending.count(b"\n", 0, length)
        del self.pending[:length]

    def end(self) -> None:
        if self.closed:
            return
        if self.start < 0:
            raise self._error("a full JSON export is a list of tasks")
        raise self._error(
            f"not a JSON export: the file ends inside the array (truncated at byte {self.scanner.seen})"
        )


def _check_outside(
    path: Path,
    chunk: bytes,
    base: int,
    positions: np.ndarray,
    start: int,
    closed: bool,
) -> None:
    """Before the array opens only whitespace may come; after it closes, too."""
    if start < 0:
        first = positions[0] - base if positions.size else len(chunk)
        if chunk[:first].strip(_SPACE):
            raise UnreadableInputError(str(path), "a full JSON export is a list of tasks")
    elif closed and chunk.strip(_SPACE):
        at = base + len(chunk) - len(chunk.lstrip(_SPACE))
        raise UnreadableInputError(str(path), f"not a JSON export: text after the array at byte {at}")
