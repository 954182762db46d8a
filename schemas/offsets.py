"""Code-point slicing of article texts for a million spans at once, without a Python string per span.

The article texts are kept as Arrow keeps them: one UTF-8 buffer and byte offsets. Knowing where every
code point starts in that buffer turns a span's code-point offsets into byte offsets, so "does
``text[start:end]`` equal the span's text" becomes a comparison of byte ranges, done with numpy over all
spans together. Slices follow Python's rules (offsets past the end are clipped), so the result is
exactly ``doc[start:end] == text`` for every span.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

_CR, _LF = 0x0D, 0x0A
#: Spans compared per block.
_BLOCK = 50_000
#: Bytes of the texts looked at at once when their code points are found.
_BYTES_AT_ONCE = 1 << 22


def _strings(values: Any) -> pa.LargeStringArray:
    """A pandas or Arrow string column as one Arrow large_string array (64-bit offsets)."""
    if isinstance(values, pd.Series):
        values = pa.array(values.astype("str"), from_pandas=True)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    result: pa.LargeStringArray = values.cast(pa.large_string())
    return result


def _buffers(array: pa.LargeStringArray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bytes, byte offsets of each value (n + 1), validity) of an Arrow large_string array."""
    _, offsets, data = array.buffers()
    n = len(array)
    starts = np.frombuffer(offsets, dtype=np.int64)[array.offset : array.offset + n + 1]
    raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    valid = array.is_valid().to_numpy(zero_copy_only=False).astype(bool)
    return raw, starts, valid


def _positions(firsts: np.ndarray, counts: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """The byte positions ``firsts[k] + 0 … counts[k] - 1`` of every segment k, concatenated (counts > 0):
    one cumulative sum over steps of 1 that jump at each segment's first byte."""
    steps = np.ones(int(counts.sum()), dtype=np.int64)
    steps[0] = firsts[0]
    steps[segments[1:]] = firsts[1:] - firsts[:-1] - counts[:-1] + 1
    return np.cumsum(steps)


def _code_point_starts(raw: np.ndarray) -> np.ndarray:
    """The byte position of every code point in a UTF-8 buffer (a continuation byte starts none): the
    largest array here, one entry per code point, so int32 when the buffer allows and found block by
    block (one ``flatnonzero`` over the whole buffer would first make an int64 array twice its size)."""
    kind = np.int32 if len(raw) < 2**31 else np.int64
    starts = np.empty(len(raw) - int(np.count_nonzero((raw & 0xC0) == 0x80)), dtype=kind)
    at = 0
    for first in range(0, len(raw), _BYTES_AT_ONCE):
        found = np.flatnonzero((raw[first : first + _BYTES_AT_ONCE] & 0xC0) != 0x80)
        np.add(found, first, out=starts[at : at + len(found)], casting="unsafe")  # no int64 temporary
        at += len(found)
    return starts


class ArticleTexts:
    """The article texts of a corpus, indexed by row, ready for vectorised code-point slicing."""

    def __init__(self, texts: Any) -> None:
        self.array = _strings(texts)
        self.raw, self.byte_offsets, self.valid = _buffers(self.array)
        self.char_bytes = _code_point_starts(self.raw)
        # needles of the haystack's type: int64 needles would make numpy copy every code point to int64
        first = np.searchsorted(self.char_bytes, self.byte_offsets.astype(self.char_bytes.dtype))
        self.first_char = first[:-1]
        self.lengths = np.where(self.valid, np.diff(first), -1)
        self.has_crlf = self._has_crlf()

    def __deepcopy__(self, memo: dict[int, Any]) -> ArticleTexts:
        return self  # read-only; pandas deep-copies ``attrs`` on every operation

    def __len__(self) -> int:
        return len(self.array)

    def _has_crlf(self) -> np.ndarray:
        pairs = np.flatnonzero((self.raw[:-1] == _CR) & (self.raw[1:] == _LF))
        docs = np.searchsorted(self.byte_offsets, pairs, side="right") - 1
        found = np.zeros(len(self.array), dtype=bool)
        # a pair straddling two texts belongs to neither
        inside = pairs + 1 < self.byte_offsets[docs + 1]
        found[docs[inside]] = True
        return found & self.valid

    def text(self, row: int) -> str | None:
        value = self.array[row].as_py()
        return value if isinstance(value, str) else None

    def _byte_at(self, docs: np.ndarray, chars: np.ndarray) -> np.ndarray:
        """Byte offset of code point ``chars`` (0 ≤ chars ≤ length) of each text in ``docs``."""
        at_end = chars >= self.lengths[docs]
        index = np.minimum(self.first_char[docs] + chars, max(len(self.char_bytes) - 1, 0))
        inner = (
            self.char_bytes[index].astype(np.int64) if len(self.char_bytes) else np.zeros(len(docs), np.int64)
        )
        return np.where(at_end, self.byte_offsets[docs + 1], inner)

    def usable(self, docs: np.ndarray) -> np.ndarray:
        """Rows whose article was found and has a text (``docs`` is -1 where it was not found)."""
        ok = docs >= 0
        ok[ok] = self.valid[docs[ok]]
        return ok

    def slices_equal(self, docs: np.ndarray, starts: np.ndarray, ends: np.ndarray, texts: Any) -> np.ndarray:
        """``doc[start:end] == text`` per row; rows without a usable article or with a negative
        (missing) offset count as equal, they are other rules' business. A null text is never equal."""
        result = np.ones(len(docs), dtype=bool)
        rows = np.flatnonzero(self.usable(docs) & (starts >= 0) & (ends >= 0))
        if not len(rows):
            return result
        d, length = docs[rows], self.lengths[docs[rows]]
        s = np.minimum(starts[rows], length)
        e = np.maximum(np.minimum(ends[rows], length), s)
        first, last = self._byte_at(d, s), self._byte_at(d, e)
        span_raw, span_offsets, span_valid = _buffers(_strings(texts))
        t_first, t_last = span_offsets[:-1][rows], span_offsets[1:][rows]
        sizes = last - first
        same = span_valid[rows] & (sizes == t_last - t_first)
        compare = np.flatnonzero(same & (sizes > 0))
        for block in range(0, len(compare), _BLOCK):  # blocks: small arrays stay in cache
            chosen = compare[block : block + _BLOCK]
            counts = sizes[chosen]
            segments = np.cumsum(counts) - counts
            equal = (
                self.raw[_positions(first[chosen], counts, segments)]
                == span_raw[_positions(t_first[chosen], counts, segments)]
            )
            same[chosen[np.add.reduceat(~equal, segments) > 0]] = False
        result[rows] = same
        return result

    def splits_crlf(self, docs: np.ndarray, at: np.ndarray) -> np.ndarray:
        """Whether offset ``at`` falls between the CR and the LF of a CRLF in its text."""
        result = np.zeros(len(docs), dtype=bool)
        ok = self.usable(docs)
        ok[ok] = self.has_crlf[docs[ok]]
        rows = np.flatnonzero(ok & (at > 0))
        rows = rows[at[rows] < self.lengths[docs[rows]]]
        if len(rows):
            before = self._byte_at(docs[rows], at[rows] - 1)
            after = self._byte_at(docs[rows], at[rows])
            result[rows] = (self.raw[before] == _CR) & (self.raw[after] == _LF)
        return result
