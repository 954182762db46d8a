"""A private Label Studio for this project: installed in its own venv, bound to 127.0.0.1, SQLite.

Everything lives under the studio home (the project's ``[studio] home``, ``.studio/`` by default, or
``$STANCEBANK_STUDIO_HOME``), which git ignores:
``venv/`` (label-studio), ``data/`` (SQLite, uploads), ``credentials.json`` (0600: admin e-mail,
password and API token), ``server.json`` (pid, port, url) and ``server.log``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from schemas.errors import StanceBankError
from stancebank.files import write_atomic
from stancebank.project import Project

LABEL_STUDIO_VERSION = "1.23.2"
DEFAULT_PORT = 8080
ADMIN_EMAIL = "admin@stancebank.local"
HEALTH_TIMEOUT = 240.0


class StudioError(StanceBankError, RuntimeError):
    """Label Studio could not be installed, started, reached or used."""


@dataclass(frozen=True)
class Credentials:
    email: str
    password: str
    token: str

    def __repr__(self) -> str:  # never show secrets in logs or tracebacks
        return f"Credentials(email={self.email!r}, password='***', token='***')"


def studio_home(project: Project) -> Path:
    """``$STANCEBANK_STUDIO_HOME`` when set, else the project's ``[studio] home`` (never the cwd's)."""
    if os.environ.get("STANCEBANK_STUDIO_HOME"):
        return Path(os.environ["STANCEBANK_STUDIO_HOME"]).resolve()
    return project.studio_home


def venv_dir(home: Path) -> Path:
    return Path(os.environ.get("STANCEBANK_LS_VENV", home / "venv"))


def label_studio_bin(home: Path) -> Path:
    return venv_dir(home) / "bin" / "label-studio"


def install(home: Path, *, quiet: bool = False) -> Path:
    """Install the pinned label-studio into its own venv unless it is already there."""
    binary = label_studio_bin(home)
    if binary.exists():
        return binary
    venv = venv_dir(home)
    venv.parent.mkdir(parents=True, exist_ok=True)
    steps = [
        [sys.executable, "-m", "venv", str(venv)],
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            f"label-studio=={LABEL_STUDIO_VERSION}",
        ],
    ]
    from rich.console import Console

    with Console(stderr=True, quiet=quiet).status(
        f"installing label-studio {LABEL_STUDIO_VERSION} into {venv} (about 2 minutes)…"
    ):
        for step in steps:
            result = subprocess.run(step, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                tail = (result.stderr or result.stdout).strip().splitlines()[-1:]
                raise StudioError(f"installing label-studio failed: {' '.join(tail)}")
    return binary


def _write_private(path: Path, text: str) -> None:
    """Write a 0600 file atomically (the temp file is 0600 from the start)."""
    write_atomic(path, text)
    path.chmod(0o600)


def credentials(home: Path) -> Credentials:
    """The admin login and API token: from the environment, else generated once and kept 0600."""
    path = home / "credentials.json"
    if path.exists():
        stored = json.loads(path.read_text(encoding="utf-8"))
    else:
        stored = {
            "email": ADMIN_EMAIL,
            "password": secrets.token_urlsafe(18),
            "token": secrets.token_hex(20),
        }
        home.mkdir(parents=True, exist_ok=True)
        _write_private(path, json.dumps(stored, indent=1) + "\n")
    token = os.environ.get("LABEL_STUDIO_API_KEY") or stored["token"]
    return Credentials(stored["email"], stored["password"], token)


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def healthy(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=timeout) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def server_env(home: Path, creds: Credentials) -> dict[str, str]:
    """The server's environment: private dirs, pre-made admin, no phoning home."""
    env = {k: v for k, v in os.environ.items() if k not in ("USERNAME", "PASSWORD", "HOST", "PORT", "DEBUG")}
    env = {k: v for k, v in env.items() if not k.startswith(("LABEL_STUDIO_", "HEARTEX_"))}
    for sub in ("data", "home", "tmp"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    env.update(
        {
            "LABEL_STUDIO_BASE_DATA_DIR": str(home / "data"),
            "HOME": str(home / "home"),
            "XDG_CONFIG_HOME": str(home / "home"),
            "TMPDIR": str(home / "tmp"),
            "LABEL_STUDIO_USERNAME": creds.email,
            "LABEL_STUDIO_PASSWORD": creds.password,
            "LABEL_STUDIO_USER_TOKEN": creds.token,
            "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
            "LABEL_STUDIO_SENTRY_DSN": "",
            "LABEL_STUDIO_FRONTEND_SENTRY_DSN": "",
            "LABEL_STUDIO_COLLECT_ANALYTICS": "false",
            "LABEL_STUDIO_LATEST_VERSION_CHECK": "false",
            "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
        }
    )
    return env


def read_state(home: Path) -> dict[str, Any] | None:
    path = home / "server.json"
    if not path.exists():
        return None
    state: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return state


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start(home: Path, *, port: int = DEFAULT_PORT, timeout: float = HEALTH_TIMEOUT) -> dict[str, Any]:
    """Start the server in the background and wait until /health answers; return its state."""
    state = read_state(home)
    if state and _alive(int(state["pid"])) and healthy(state["url"]):
        raise StudioError(f"Label Studio is already running at {state['url']} (pid {state['pid']})")
    if not port_is_free(port):
        raise StudioError(f"port {port} on 127.0.0.1 is taken; choose another with --port")
    binary = install(home)
    creds = credentials(home)
    log_path = home / "server.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [str(binary), "start", "--no-browser", "--internal-host", "127.0.0.1", "--port", str(port)],
            cwd=home,
            env=server_env(home, creds),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    state = {"pid": process.pid, "port": port, "url": url}
    write_atomic(home / "server.json", json.dumps(state) + "\n")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StudioError(f"Label Studio exited with code {process.returncode}; see {log_path}")
        if healthy(url):
            break
        time.sleep(0.5)
    else:
        stop(home)
        raise StudioError(f"Label Studio did not answer {url}/health within {timeout:.0f} s; see {log_path}")
    bound = re.findall(r"server at http://127\.0\.0\.1:(\d+)/", log_path.read_text(errors="replace"))
    if bound and int(bound[-1]) != port:
        stop(home)
        raise StudioError(f"Label Studio moved to port {bound[-1]} instead of {port}; stopped it")
    return state


def stop(home: Path, *, timeout: float = 15.0) -> bool:
    """SIGTERM the recorded server; True if one was running."""
    state = read_state(home)
    if not state:
        return False
    pid = int(state["pid"])
    (home / "server.json").unlink(missing_ok=True)
    if not _alive(pid):
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            finished, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            finished = 0 if _alive(pid) else pid
        if finished or not _alive(pid):
            return True
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    return True


def status(home: Path) -> dict[str, Any] | None:
    """The recorded state if the server answers /health, else None."""
    state = read_state(home)
    if state and _alive(int(state["pid"])) and healthy(state["url"]):
        return state
    return None
