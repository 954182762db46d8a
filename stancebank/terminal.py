"""Values from data shown on a terminal: escaped, never interpreted.

A value can carry Rich markup (``[/x]`` crashes a table, ``[link=…]`` renders) or terminal control
sequences (ESC/CSI, BEL, C1 controls such as U+009B, bidirectional overrides that reorder what is
shown). :func:`visible` turns every such character into a visible escape (``\\x1b``, ``\\u202e``);
:func:`markup_safe` also escapes Rich markup, for table cells and ``Console.print``. Every message and
table that shows a value from data goes through one of them.
"""

from __future__ import annotations

import re
from typing import Any

from rich.markup import escape

#: C0 controls (tab and line break included: a cell stays one line), DEL, C1 controls, and the Unicode
#: format characters that reorder or hide text (bidi embeddings/overrides/isolates, marks, zero widths).
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]"
)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(value: Any) -> str:
    """``value`` as text with every control, bidi and invisible format character shown as an escape."""
    text = value if isinstance(value, str) else str(value)
    return _UNSAFE.sub(_escaped, text)


def markup_safe(value: Any) -> str:
    """:func:`visible`, with Rich markup escaped too (for table cells and ``Console.print``)."""
    return escape(visible(value))


#: What ``json.dumps(..., ensure_ascii=False)`` leaves raw of :data:`_UNSAFE` (it escapes C0 itself).
_UNSAFE_IN_JSON = re.compile(
    "[\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]"
)


def json_safe(text: str) -> str:
    """JSON text (``ensure_ascii=False``) with DEL, C1 and bidi/format characters written as ``\\u``
    escapes: still the same JSON, harmless on a terminal."""
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def positive_int(text: str) -> int:
    """argparse type: a whole number, at least 1 (chunk sizes, shard sizes, job counts)."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number, at least 1; got {text!r}")
    return value
