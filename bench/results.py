"""bench/RESULTS.md is written by three scripts; each replaces its own section and keeps the others."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def update_section(heading: str, text: str, path: Path = RESULTS) -> None:
    """Replace the section whose heading line starts with ``heading`` (up to the next heading) by
    ``text``, or add it at the end. ``text`` starts with its own heading line."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    start = next((i for i, line in enumerate(lines) if line.startswith(heading)), None)
    if start is None:
        kept = [*lines, ""] if lines else []
        path.write_text("\n".join([*kept, text.strip("\n"), ""]), encoding="utf-8")
        return
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("#")), len(lines))
    new = [*lines[:start], *text.strip("\n").splitlines(), "", *lines[end:]]
    path.write_text("\n".join(new).rstrip("\n") + "\n", encoding="utf-8")
