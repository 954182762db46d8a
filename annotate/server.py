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


def studio_home(project: Any = None) -> Path:
    """``$STANCEBANK_STUDIO_HOME`` when set, else the project's ``[studio] home`` (never the cwd's);
    ``project`` is a Project, parsed command-line arguments, or None (found from the current folder)."""
    if os.environ.get("STANCEBANK_STUDIO_HOME"):
        return Path(os.environ["STANCEBANK_STUDIO_HOME"]).resolve()
    from stancebank.project import project_of

    return (project if isinstance(project, Project) else project_of(project)).studio_home


def make_private(home: Path) -> None:
    """Make the studio home private to the user: 0700 folders, 0600 files, all the way down (the
    SQLite database, its -wal/-journal files and the credentials hold the API token). The venv,
    when it lives inside the home, is left as pip made it (it holds no secret and must stay runnable)."""
    home.mkdir(parents=True, exist_ok=True)
    venv = venv_dir(home).resolve()
    for folder, dirs, files in os.walk(home):
        here = Path(folder)
        if here.resolve() == venv:
            dirs[:] = []
            continue
        _chmod(here, 0o700)
        if here == home:
            dirs[:] = [d for d in dirs if (here / d).resolve() != venv]
        for name in files:
            _chmod(here / name, 0o600)


def _chmod(path: Path, mode: int) -> None:
    try:
        if not path.is_symlink():
            path.chmod(mode)
    except FileNotFoundError:  # a temp file the server removed meanwhile
        pass


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
    write_atomic(path, text, mode=0o600)


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
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
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
        (home / sub).mkdir(mode=0o700, parents=True, exist_ok=True)
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
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, OSError):
        return None
    if not isinstance(state, dict) or not isinstance(state.get("pid"), int) or isinstance(state["pid"], bool):
        return None
    return state


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def process_start(pid: int) -> int | None:
    """The start time of ``pid`` in clock ticks since boot (field 22 of /proc/<pid>/stat), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()  # the command name may hold spaces and parentheses
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]


def is_our_server(home: Path, state: dict[str, Any]) -> bool:
    """True only if the recorded pid is still the label-studio this home started: the same start time
    as recorded, and a command line naming this home's label-studio binary."""
    pid = int(state["pid"])
    if pid <= 1 or not _alive(pid):
        return False
    started = process_start(pid)
    if started is None or state.get("started") != started:
        return False
    binary = str(state.get("binary") or label_studio_bin(home))
    return binary in _cmdline(pid)[:3]


def clear_stale(home: Path) -> dict[str, Any] | None:
    """Forget a recorded server that is not ours any more (reboot, reused pid); return what was
    recorded if it was stale, else None."""
    state = read_state(home)
    path = home / "server.json"
    if state is None:
        if path.exists():
            path.unlink(missing_ok=True)
            return {}
        return None
    if is_our_server(home, state):
        return None
    path.unlink(missing_ok=True)
    return state


def start(home: Path, *, port: int = DEFAULT_PORT, timeout: float = HEALTH_TIMEOUT) -> dict[str, Any]:
    """Start the server in the background and wait until /health answers; return its state."""
    make_private(home)  # also fixes a home made by an earlier version (0644 database)
    clear_stale(home)
    state = read_state(home)
    if state and healthy(state["url"]):
        raise StudioError(f"Label Studio is already running at {state['url']} (pid {state['pid']})")
    if not port_is_free(port):
        raise StudioError(f"port {port} on 127.0.0.1 is taken; choose another with --port")
    binary = install(home)
    creds = credentials(home)
    log_path = home / "server.log"
    with os.fdopen(os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab") as log:
        process = subprocess.Popen(
            [str(binary), "start", "--no-browser", "--internal-host", "127.0.0.1", "--port", str(port)],
            cwd=home,
            env=server_env(home, creds),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            umask=0o077,  # the database, its journal, exports and temp files: private to the user
        )
    url = f"http://127.0.0.1:{port}"
    state = {
        "pid": process.pid,
        "port": port,
        "url": url,
        "started": process_start(process.pid),
        "binary": str(binary),
    }
    _write_private(home / "server.json", json.dumps(state) + "\n")
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
    """SIGTERM the recorded server if it is still ours (see ``is_our_server``); True if it was running.
    A recorded pid that now names another process is never signalled: the stale state is cleared."""
    if clear_stale(home) is not None:
        return False
    state = read_state(home)
    if not state:
        return False
    pid = int(state["pid"])
    (home / "server.json").unlink(missing_ok=True)
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
    clear_stale(home)
    state = read_state(home)
    if state and healthy(state["url"]):
        return state
    return None
