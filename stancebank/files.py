"""Writing files safely: atomic writes (temp file + rename), folder swaps, compact JSONL.

No pandas here: the Label Studio server helpers and the command line use these without loading the
data stack.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from schemas.errors import UnreadableInputError
from stancebank.inputs import open_input, parse_json_line, read_input

__all__ = [
    "dumps_jsonl",
    "open_input",
    "parse_json_line",
    "read_input",
    "read_text",
    "removing",
    "replace_dir",
    "staging_dir",
    "write_atomic",
]


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def staging_dir(out: Path) -> Path:
    """A new empty folder beside ``out`` to build it in before it is swapped into place, with the mode
    the user's umask gives a new folder (``mkdtemp`` alone makes it 0700)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    staging.chmod(0o777 & ~_umask())
    return staging


def write_atomic(path: Path, text: str, *, mode: int | None = None) -> None:
    """Write ``text`` to ``path`` through a temp file in the same folder and a rename. The file gets
    ``mode`` (e.g. 0o600 for a secret) or, by default, what the user's umask gives a new file (a temp
    file alone would be 0600: a project's data files must stay readable by its team)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask() if mode is None else mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


#: renameat2(2) flag: swap two paths atomically (Linux ≥ 3.15; ext4, xfs, btrfs, tmpfs …).
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


@contextmanager
def removing(paths: Iterable[Path]) -> Iterator[None]:
    """``with removing(folders): …``: the folders (spilled files no longer read) are removed in a thread
    while the block runs, and the block ends once they are gone. Unlinking files frees their pages in
    the kernel, so the removal takes the other core while this one goes on. Do not fork in the block
    (a forked child would inherit the thread's locks mid-call)."""
    folders = list(paths)

    def remove() -> None:
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)

    thread = threading.Thread(target=remove, name="stancebank-remove", daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join()


def _step(name: str) -> None:
    """A point between two steps of a swap: ``STANCEBANK_KILL_AT=name`` SIGKILLs the process here (the
    test proving that a version of the folder exists at every instant)."""
    if os.environ.get("STANCEBANK_KILL_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap the paths ``a`` and ``b`` with renameat2(RENAME_EXCHANGE); False where the system
    or the file system cannot (the caller falls back)."""
    if os.environ.get("STANCEBANK_NO_EXCHANGE") or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    errno_ = ctypes.get_errno()
    if errno_ in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(errno_, os.strerror(errno_), str(b))


def _backup(out: Path) -> Path:
    return out.with_name(f".{out.name}.previous")


def recover_dir(out: Path) -> None:
    """Put back the previous version of ``out`` if a fallback swap was killed between its two renames."""
    backup = _backup(out)
    if backup.is_dir() and not out.exists():
        os.replace(backup, out)


def replace_dir(staging: Path, out: Path) -> None:
    """Replace the folder ``out`` by the finished folder ``staging``; a complete version (old or new)
    is at ``out`` at every instant.

    Linux: one renameat2(RENAME_EXCHANGE) swaps the two folders, then the old one (now at ``staging``)
    is removed. Elsewhere: ``out`` is renamed to ``.<name>.previous`` and ``staging`` into place; killed
    in between, the previous version is still whole in ``.<name>.previous`` and :func:`recover_dir`
    (called by the next swap and by the output guard) puts it back."""
    recover_dir(out)
    _step("swap-start")
    if not out.exists():
        os.rename(staging, out)
        _step("swap-installed")
        return
    if _exchange(staging, out):
        _step("swap-exchanged")
        shutil.rmtree(staging, ignore_errors=True)
        _step("swap-done")
        return
    backup = _backup(out)
    shutil.rmtree(backup, ignore_errors=True)
    os.rename(out, backup)
    _step("swap-backed-up")
    os.rename(staging, out)
    _step("swap-installed")
    shutil.rmtree(backup, ignore_errors=True)
    _step("swap-done")


def dumps_jsonl(records: Iterable[dict[str, Any]], *, compact: bool = False) -> str:
    """One JSON object per line, keys in the given order, non-ASCII kept readable. ``compact``: no
    spaces after separators, written by orjson (about 10× faster: ``pull`` writes 100k annotations)."""
    if compact:
        import orjson

        return b"".join(orjson.dumps(r) + b"\n" for r in records).decode("utf-8")
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def read_text(path: Path, what: str = "a text file") -> str:
    """A UTF-8 text file's content, with a clear error when it is missing, a folder or not UTF-8."""
    data = read_input(path, what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableInputError(str(path), f"not UTF-8 (byte {exc.start})") from None
