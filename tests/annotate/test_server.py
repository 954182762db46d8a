"""The server's lifecycle and secrets, against the real Label Studio where needed."""

from __future__ import annotations

import shutil
import socket
import stat
from pathlib import Path

import pytest

from annotate import server
from annotate.cli import cmd_status
from stancebank.cli import build_parser, main
from tests.annotate.conftest import LiveStudio


def test_taken_port_is_refused(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(server.StudioError, match=f"port {port} on 127.0.0.1 is taken"):
            server.start(tmp_path, port=port)


def test_credentials_are_private_and_stable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)
    first = server.credentials(tmp_path)
    assert stat.S_IMODE((tmp_path / "credentials.json").stat().st_mode) == 0o600
    assert server.credentials(tmp_path) == first
    assert first.token not in repr(first) and first.password not in repr(first)


def test_token_from_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "f" * 40)
    assert server.credentials(tmp_path).token == "f" * 40


def test_server_env_keeps_things_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USERNAME", "someone")
    monkeypatch.setenv("LABEL_STUDIO_HOST", "http://0.0.0.0")
    env = server.server_env(tmp_path, server.credentials(tmp_path))
    assert "USERNAME" not in env and "LABEL_STUDIO_HOST" not in env
    assert env["LABEL_STUDIO_COLLECT_ANALYTICS"] == "false"
    assert env["LABEL_STUDIO_SENTRY_DSN"] == ""


@pytest.mark.integration
def test_status_and_no_token_in_output(live_studio: LiveStudio, capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["studio", "status"])
    assert cmd_status(args) == 0
    out = capsys.readouterr().out
    assert live_studio.url in out and live_studio.token not in out
    assert main(["studio", "status", "--show-token"]) == 0
    assert live_studio.token in capsys.readouterr().out
    assert server.healthy(live_studio.url)
    state = server.read_state(live_studio.home)
    assert state is not None and state["url"].startswith("http://127.0.0.1:")


@pytest.mark.integration
def test_start_stop_status_cycle(live_studio: LiveStudio, tmp_path: Path) -> None:
    """A second server in its own home: start, status, stop (uses the already-installed venv)."""
    from tests.annotate.conftest import free_port

    home = tmp_path / "second"
    # Seed with the session server's migrated database and login: starts in seconds, not ~30 s.
    (home / "data").mkdir(parents=True)
    shutil.copy(live_studio.home / "data" / "label_studio.sqlite3", home / "data")
    shutil.copy(live_studio.home / "credentials.json", home)
    state = server.start(home, port=free_port())
    try:
        assert server.status(home) == state
        with pytest.raises(server.StudioError, match="already running"):
            server.start(home, port=state["port"])
    finally:
        assert server.stop(home)
    assert server.status(home) is None
    assert not server.stop(home)
