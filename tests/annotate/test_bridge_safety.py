"""The bridge's safety rows (issue 17), table-driven where there is a table: a private studio home, a
server pid checked before it is signalled, the studio home found from the project, and creating calls
(import, prediction, annotation) that land once even when the answer to the first try is lost."""

from __future__ import annotations

import http.client
import http.server
import json
import shutil
import stat
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from annotate import server
from annotate.client import Studio
from annotate.pull import pull
from annotate.push import push
from stancebank.cli import main
from stancebank.project import find_project, project_toml
from stancebank.validate import load_valid
from tests.conftest import LiveStudio, free_port
from tests.corpus_factory import base_records, write_records

# --- the recorded pid is signalled only if it is still our label-studio ----------------------------


@pytest.fixture
def bystander() -> Iterator[subprocess.Popen[bytes]]:
    """An unrelated process of ours that a stale state file may name (pids are reused after a reboot)."""
    process = subprocess.Popen(["sleep", "60"])
    yield process
    process.kill()
    process.wait()


def _state(pid: int, **extra: Any) -> dict[str, Any]:
    return {"pid": pid, "port": 9, "url": "http://127.0.0.1:9", **extra}


# (name, state file content from the bystander's pid)
STALE_STATES: list[tuple[str, Callable[[int], str]]] = [
    ("state of an older version (no start time)", lambda pid: json.dumps(_state(pid))),
    (
        "pid reused by another program (same start time, other command)",
        lambda pid: json.dumps(_state(pid, started=server.process_start(pid), binary="/usr/bin/sleep-not")),
    ),
    (
        "pid reused after a reboot (our binary, other start time)",
        lambda pid: json.dumps(_state(pid, started=1, binary="sleep")),
    ),
]


@pytest.mark.parametrize("write", [c[1] for c in STALE_STATES], ids=[c[0] for c in STALE_STATES])
@pytest.mark.parametrize("verb", ["stop", "status"])
def test_stale_state_is_cleared_and_the_process_is_not_signalled(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    bystander: subprocess.Popen[bytes],
    write: Callable[[int], str],
    verb: str,
) -> None:
    monkeypatch.setenv("STANCEBANK_STUDIO_HOME", str(tmp_path))
    (tmp_path / "server.json").write_text(write(bystander.pid))
    code = main(["studio", verb])
    out = capsys.readouterr().out
    time.sleep(0.2)
    assert bystander.poll() is None, "an unrelated process was signalled"
    assert f"pid {bystander.pid} is not this project's Label Studio (not signalled)" in out
    assert not (tmp_path / "server.json").exists()
    assert code == (0 if verb == "stop" else 1)


def test_an_unreadable_state_file_is_cleared(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "server.json").write_text('{"pid": "1; rm -rf /"')
    assert server.stop(tmp_path) is False
    assert not (tmp_path / "server.json").exists()


# --- the studio home comes from the project, from any folder ---------------------------------------


def test_studio_home_is_the_projects_from_a_subfolder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "stancebank.toml").write_text(project_toml(name="Elsewhere"))
    deep = tmp_path / "data" / "annotations"
    deep.mkdir(parents=True)
    monkeypatch.delenv("STANCEBANK_STUDIO_HOME", raising=False)
    monkeypatch.delenv("STANCEBANK_PROJECT_DIR", raising=False)
    monkeypatch.chdir(deep)
    expected = find_project(tmp_path).studio_home
    assert expected.is_relative_to(tmp_path) and server.studio_home() == expected
    monkeypatch.setenv("STANCEBANK_STUDIO_HOME", str(tmp_path / "mine"))
    assert server.studio_home() == tmp_path / "mine"  # the environment still wins


# --- the studio home is private --------------------------------------------------------------------


def _readable_by_others(home: Path) -> list[str]:
    loose = []
    for path in [home, *home.rglob("*")]:
        if path.is_symlink():
            continue
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            loose.append(f"{path.relative_to(home)} {oct(stat.S_IMODE(path.stat().st_mode))}")
    return loose


@pytest.mark.integration
def test_studio_home_is_private_after_start_and_export(live_studio: LiveStudio, tmp_path: Path) -> None:
    home = tmp_path / "studio"
    (home / "data").mkdir(parents=True)
    shutil.copy(live_studio.home / "data" / "label_studio.sqlite3", home / "data")
    shutil.copy(live_studio.home / "credentials.json", home)
    for path in [home, *home.rglob("*")]:  # a home left by an older version: 0755 folders, 0644 files
        path.chmod(0o755 if path.is_dir() else 0o644)
    (home / "server.log").write_text("earlier run\n")
    port = free_port()
    server.start(home, port=port)
    try:
        assert _readable_by_others(home) == []
        data = tmp_path / "data"
        write_records(data, base_records())
        studio = Studio(f"http://127.0.0.1:{port}", live_studio.token, timeout=30, retries=1)
        push(studio, load_valid([data]), title="private home")
        pull(studio, title="private home", data_dir=data)
        assert _readable_by_others(home) == []
        assert any((home / "data").glob("label_studio.sqlite3*"))
    finally:
        server.stop(home)


# --- creating calls land once even when the answer to the first try is lost -----------------------


class LosingProxy:
    """Forwards everything to Label Studio; for the chosen requests, the server's answer is held back
    until the client has timed out (the request itself did land)."""

    def __init__(self, upstream_port: int, lose: Callable[[str, str, int], bool], hold: float) -> None:
        self.seen: dict[tuple[str, str], int] = {}
        self.lost = 0
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                upstream = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=120)
                upstream.request(self.command, self.path, body=body or None, headers=headers)
                answer = upstream.getresponse()
                payload = answer.read()
                upstream.close()
                route = (self.command, self.path.split("?")[0].rstrip("/").rsplit("/", 1)[-1])
                proxy.seen[route] = proxy.seen.get(route, 0) + 1
                if lose(self.command, self.path, proxy.seen[route]):
                    proxy.lost += 1
                    time.sleep(hold)
                try:
                    self.send_response(answer.status)
                    for key, value in answer.getheaders():
                        if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                            self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up long ago

            do_GET = do_POST = do_PATCH = do_DELETE = _forward

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()


def _tasks(root: Path, n: int) -> Path:
    records = base_records()
    template = records["articles"][1]
    records["articles"] = [
        {**template, "article_id": f"b{i}", "text": f"Story {i}: talks may resume."} for i in range(n)
    ]
    records["targets"] = [
        {"target_id": f"b{i}:t1", "article_id": f"b{i}", "text": "Talks resume."} for i in range(n)
    ]
    write_records(root, {**records, "annotations": []})
    (root / "annotations" / "amira.jsonl").unlink()
    return root


def _port(live: LiveStudio) -> int:
    return int(live.url.rsplit(":", 1)[1])


def _keys(studio: Studio, project_id: int) -> list[str]:
    return [t["data"]["task_key"] for t in json.loads(studio.export(project_id))]


HOLD = 24.0  # longer than TIMEOUT: the client gives up on the answer
TIMEOUT = 20.0  # generous: the machine running the tests may be busy
# (name, tasks, batch size, which import request loses its answer)
IMPORT_CASES: list[tuple[str, int, int, int]] = [
    ("one batch of 3000 whose answer is lost", 3000, 3000, 1),
    ("the second of three batches loses its answer", 300, 100, 2),
]


@pytest.mark.integration
@pytest.mark.parametrize(
    ("n", "batch", "nth"), [c[1:] for c in IMPORT_CASES], ids=[c[0] for c in IMPORT_CASES]
)
def test_a_timed_out_import_that_landed_is_not_sent_again(
    live_studio: LiveStudio, tmp_path: Path, n: int, batch: int, nth: int
) -> None:
    proxy = LosingProxy(
        _port(live_studio),
        lambda method, _path, count: method == "POST" and "/import" in _path and count == nth,
        HOLD,
    )
    try:
        studio = Studio(proxy.url, live_studio.token, timeout=TIMEOUT, retries=2, backoff=0.2)
        title = live_studio.project_title("lost answer")
        report = push(studio, load_valid([_tasks(tmp_path / "data", n)]), title=title, batch_size=batch)
        assert proxy.lost == 1
        keys = _keys(live_studio.client(), report.project_id)
        assert len(keys) == len(set(keys)) == n
        assert report.created == n and report.removed == 0
    finally:
        proxy.close()


def _result() -> list[dict[str, Any]]:
    return [
        {
            "id": "d1",
            "from_name": "doc_stance",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": ["neutral"]},
        }
    ]


CREATE_CASES: list[tuple[str, str]] = [("prediction", "predictions"), ("annotation", "annotations")]


@pytest.mark.integration
@pytest.mark.parametrize("kind", [c[0] for c in CREATE_CASES], ids=[c[0] for c in CREATE_CASES])
def test_a_timed_out_creation_that_landed_is_not_sent_again(
    live_studio: LiveStudio, tmp_path: Path, kind: str
) -> None:
    direct = live_studio.client()
    title = live_studio.project_title(f"lost {kind}")
    report = push(direct, load_valid([_tasks(tmp_path / "data", 1)]), title=title)
    (task_id,) = direct.task_keys(report.project_id)["b0|b0:t1"]
    route = dict(CREATE_CASES)[kind]
    proxy = LosingProxy(
        _port(live_studio),
        lambda method, path, count: method == "POST" and route in path and count == 1,
        HOLD,
    )
    try:
        studio = Studio(proxy.url, live_studio.token, timeout=TIMEOUT, retries=2, backoff=0.2)
        if kind == "prediction":
            studio.create_prediction(task_id, _result(), "m1", 0.5)
        else:
            studio.create_annotation(task_id, _result())
        assert proxy.lost == 1
    finally:
        proxy.close()
    (task,) = [t for t in json.loads(direct.export(report.project_id)) if t["id"] == task_id]
    assert len(task[route]) == 1, task[route]
