"""The validation report's row: where a rule failed, on what, and with which value."""

from __future__ import annotations

from typing import NamedTuple


class Failure(NamedTuple):
    """One broken rule on one row (or one file, when ``line`` is None)."""

    file: str
    line: int | None
    article_id: str | None
    span_id: str | None
    rule: str
    column: str | None
    value: str | None

    def one_line(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        ids = ", ".join(f"{k}={v}" for k, v in (("article", self.article_id), ("span", self.span_id)) if v)
        column = f" [{self.column}]" if self.column else ""
        value = f" value={self.value!r}" if self.value is not None else ""
        return f"{where}: {self.rule}{column}{' (' + ids + ')' if ids else ''}{value}"
