"""One error root for the toolkit; each subclass also subclasses the builtin it resembles."""

from __future__ import annotations

import functools
from typing import Any


class StanceBankError(Exception):
    """Root of every error StanceBank raises on purpose."""


class UnreadableInputError(StanceBankError, OSError):
    """A file cannot be read as the format it should have (missing, not UTF-8, bad JSON)."""

    def __init__(self, path: str, message: str, *, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.message = message
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {message}")

    def __str__(self) -> str:  # OSError would otherwise format errno/strerror
        return str(self.args[0])

    def __reduce__(self) -> tuple[Any, ...]:  # picklable: a worker process raises it back to its parent
        return functools.partial(type(self), line=self.line), (self.path, self.message)


class InvalidDataError(StanceBankError, ValueError):
    """Data was read but breaks one or more schema rules; ``failures`` lists every one."""

    def __init__(self, failures: list[dict[str, object]]) -> None:
        self.failures = failures
        super().__init__(f"{len(failures)} validation failure(s)")

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.failures,)
