"""Files a command writes follow the user's umask (a team shares a project); secrets stay 0600."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from stancebank.files import write_atomic


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_written_files_follow_the_umask_and_secrets_are_private(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "articles.jsonl", "{}\n")
        write_atomic(tmp_path / "credentials.json", "{}\n", mode=0o600)
        os.umask(0o077)
        write_atomic(tmp_path / "private.jsonl", "{}\n")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "articles.jsonl") == 0o644
    assert _mode(tmp_path / "credentials.json") == 0o600
    assert _mode(tmp_path / "private.jsonl") == 0o600


def test_a_staged_folder_follows_the_umask(tmp_path: Path) -> None:
    from stancebank.files import staging_dir

    old = os.umask(0o022)
    try:
        staged = staging_dir(tmp_path / "hf")
    finally:
        os.umask(old)
    assert _mode(staged) == 0o755 and staged.parent == tmp_path
