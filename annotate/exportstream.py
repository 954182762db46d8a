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
from stancebank.inputs import open_input

BLOCK = 4 << 20
BATCH = 1000  # tasks per batch (about 14 MB of export at 1–3 annotations per task)
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
        delta = np.isin(kinds, _OPEN).astype(np.int64) - np.isin(kinds, _CLOSE).astype(np.int64)
        depth = self.depth + np.cumsum(delta) - delta
        if len(delta):
            self.depth = int(depth[-1] + delta[-1])
        self.in_string ^= bool(len(quotes) % 2)
        keep = (depth <= 0) | ((depth == 1) & ~np.isin(kinds, _OPEN))
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
    scanner = _Scanner()
    pending = bytearray()  # file bytes from ``start`` on
    start = -1  # offset of the current region (after the opening bracket or a cut comma)
    closed = False
    start_at_comma = False  # the current region began after a comma (so may not be empty)
    count = 0
    lines = 1  # line number at the start of ``pending``
    with open_input(path, "a Label Studio export") as handle:
        while True:
            chunk = handle.read(block)
            if not chunk:
                break
            base = scanner.seen
            positions, depth, kinds = scanner.feed(chunk)
            if start < 0 or closed:
                _check_outside(path, chunk, base, positions, depth, kinds, start, closed)
            pending += chunk
            for position, level, kind in zip(positions.tolist(), depth.tolist(), kinds.tolist(), strict=True):
                if closed:
                    break
                if level == 0 and start < 0:
                    if kind != _OPEN[0]:
                        raise UnreadableInputError(str(path), "a full JSON export is a list of tasks")
                    lines += pending[: position + 1 - (scanner.seen - len(pending))].count(b"\n")
                    del pending[: position + 1 - (scanner.seen - len(pending))]
                    start = position + 1
                elif level == 1 and kind == _COMMA:
                    count += 1
                    if count == size:
                        cut = position - start
                        region = bytes(pending[:cut])
                        yield _batch(region, count, start, lines)
                        lines += pending[: cut + 1].count(b"\n")
                        del pending[: cut + 1]
                        start, count, start_at_comma = position + 1, 0, True
                elif level == 1 and kind == _CLOSE[1]:
                    raise UnreadableInputError(
                        str(path), f"not a JSON export: unbalanced '}}' at byte {position}"
                    )
                elif level == 1 and kind == _CLOSE[0]:
                    cut = position - start
                    region = bytes(pending[:cut])
                    if region.strip(_SPACE):
                        yield _batch(region, count + 1, start, lines)
                    elif count or start_at_comma:
                        raise UnreadableInputError(
                            str(path), f"not a JSON export: a trailing comma before byte {position}"
                        )
                    closed = True
                    tail = bytes(pending[cut + 1 :])
                    if tail.strip(_SPACE):
                        raise UnreadableInputError(
                            str(path),
                            f"not a JSON export: text after the array at byte "
                            f"{position + 1 + len(tail) - len(tail.lstrip(_SPACE))}",
                        )
                    pending.clear()
                elif level == 0 and start >= 0:
                    raise UnreadableInputError(
                        str(path), f"not a JSON export: unbalanced {chr(kind)!r} at byte {position}"
                    )
            if start < 0 and not closed and bytes(pending).strip(_SPACE):
                if not positions.size:
                    raise UnreadableInputError(str(path), "a full JSON export is a list of tasks")
            if closed:
                pending.clear()
    if not closed:
        if start < 0:
            raise UnreadableInputError(str(path), "a full JSON export is a list of tasks")
        raise UnreadableInputError(
            str(path), f"not a JSON export: the file ends inside the array (truncated at byte {scanner.seen})"
        )


def _check_outside(
    path: Path,
    chunk: bytes,
    base: int,
    positions: np.ndarray,
    depth: np.ndarray,
    kinds: np.ndarray,
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


def _batch(region: bytes, tasks: int, offset: int, line: int) -> Batch:
    return Batch(region, tasks, offset, line)
