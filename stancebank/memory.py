"""Give memory that a finished phase freed back to the operating system."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import sys

import pyarrow as pa


def release() -> None:
    """Collect garbage, then return the free pages of Arrow's memory pool and of the C heap (glibc's
    ``malloc_trim``; elsewhere only Arrow's). Call it after a phase that allocated a lot and before
    forking workers, which would otherwise inherit the freed but still resident pages."""
    gc.collect()
    pa.default_memory_pool().release_unused()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # not glibc (e.g. musl): nothing more
            ctypes.CDLL("libc.so.6").malloc_trim(0)
