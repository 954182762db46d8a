"""Faults with a real Label Studio: killed mid-push or mid-pull, down, wrong token, wrong URL, slow;
and the token never leaks into logs, messages or files."""

from __future__ import annotations

import http.server
import json
import logging
import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from annotate import server
from annotate.client import Studio
from annotate.pull import pull
from annotate.push import push
from annotate.server import StudioError
from stancebank.validate import load_valid
from tests.conftest import LiveStudio, free_port
from tests.corpus_factory import base_records, write_records

pytestmark = pytest.mark.integration
N_TASKS = 2000


@pytest.fixture
def own_server(live_studio: LiveStudio, tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A second server we may kill, seeded with the session server's database and login."""
    home = tmp_path / "studio"
    (home / "data").mkdir(parents=True)
    shutil.copy(live_studio.home / "data" / "label_studio.sqlite3", home / "data")
    shutil.copy(live_studio.home / "credentials.json", home)
    port = free_port()
    server.start(home, port=port)
    yield home, port
    server.stop(home)


def _many_tasks(root: Path, n: int) -> Path:
    records = base_records()
    template = records["articles"][1]
    records["articles"] = [
        {**template, "article_id": f"b{i}", "text": f"Story {i}: the minister said talks may resume."}
        for i in range(n)
    ]
    records["targets"] = [
        {"target_id": f"b{i}:t1", "article_id": f"b{i}", "text": "Talks resume."} for i in range(n)
    ]
    write_records(root, {**records, "annotations": []})
    (root / "annotations" / "amira.jsonl").unlink()
    return root


def _keys(studio: Studio, project_id: int) -> list[str]:
    return [t["data"]["task_key"] for t in json.loads(studio.export(project_id))]


def test_killed_mid_push_then_push_again_gives_each_task_once(
    own_server: tuple[Path, int], live_studio: LiveStudio, tmp_path: Path
) -> None:
    home, port = own_server
    corpus = load_valid([_many_tasks(tmp_path / "data", N_TASKS)])
    url = f"http://127.0.0.1:{port}"
    studio = Studio(url, live_studio.token, timeout=10, retries=1, backoff=0.2)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            push(studio, corpus, title="kill me", batch_size=50)
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    pid = int(server.read_state(home)["pid"])  # type: ignore[index]
    probe = Studio(url, live_studio.token, timeout=10, retries=0)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        project = probe.find_project("kill me")
        if project and len(_keys(probe, project["id"])) >= 200:
            break
        time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)
    thread.join(60)
    assert failure and isinstance(failure[0], StudioError), failure
    assert "cannot reach Label Studio" in str(failure[0])

    server.start(home, port=port)
    report = push(studio, corpus, title="kill me", batch_size=500)
    keys = _keys(studio, report.project_id)
    assert len(keys) == len(set(keys)) == N_TASKS
    assert report.created + report.existing == N_TASKS and 0 < report.existing < N_TASKS


def test_server_down_during_pull_writes_nothing_then_pull_completes(
    own_server: tuple[Path, int], live_studio: LiveStudio, tmp_path: Path
) -> None:
    home, port = own_server
    data = tmp_path / "data"
    write_records(data, base_records())
    studio = Studio(f"http://127.0.0.1:{port}", live_studio.token, timeout=10, retries=1, backoff=0.1)
    push(studio, load_valid([data]), title="pull fault")
    before = {p: p.stat().st_mtime_ns for p in data.rglob("*")}
    os.kill(int(server.read_state(home)["pid"]), signal.SIGKILL)  # type: ignore[index]
    time.sleep(0.5)
    with pytest.raises(StudioError, match="cannot reach Label Studio"):
        pull(studio, title="pull fault", data_dir=data)
    assert {p: p.stat().st_mtime_ns for p in data.rglob("*")} == before
    server.start(home, port=port)
    report = pull(studio, title="pull fault", data_dir=data)
    assert report.exported == report.converted + report.rejected == 0


def test_wrong_token_fails_at_once_without_leaking(
    live_studio: LiveStudio, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "0" * 40
    studio = Studio(live_studio.url, wrong, timeout=10, retries=3, backoff=1.0)
    started = time.monotonic()
    with pytest.raises(StudioError, match="401") as caught:
        studio.find_project("anything")
    assert time.monotonic() - started < 1.0, "401 must not be retried"
    assert wrong not in str(caught.value) and live_studio.token not in caplog.text


def test_an_answer_cut_off_is_retried_then_a_one_line_error() -> None:
    """A server killed mid-answer leaves an empty or cut-off body: tried again like a lost connection,
    then a StudioError naming what was being done, never a JSON parser's error."""
    studio = Studio(f"http://127.0.0.1:{free_port()}", "x" * 40, timeout=1, retries=2, backoff=0.01)
    calls = []

    def cut_off() -> None:
        calls.append(1)
        json.loads("")

    with pytest.raises(StudioError, match=r"reading tasks: Label Studio's answer .* empty or cut off"):
        studio._call("reading tasks", cut_off)
    assert len(calls) == 3


def test_wrong_url_gives_up_after_bounded_retries() -> None:
    studio = Studio(f"http://127.0.0.1:{free_port()}", "x" * 40, timeout=1, retries=2, backoff=0.1)
    started = time.monotonic()
    with pytest.raises(StudioError, match="after 3 tries"):
        studio.find_project("anything")
    assert time.monotonic() - started < 5


def test_slow_server_hits_the_time_out() -> None:
    class Slow(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(1.5)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        studio = Studio(
            f"http://127.0.0.1:{httpd.server_address[1]}", "x" * 40, timeout=0.3, retries=1, backoff=0.05
        )
        started = time.monotonic()
        with pytest.raises(StudioError, match="after 2 tries"):
            studio.find_project("anything")
        assert time.monotonic() - started < 3
    finally:
        httpd.shutdown()


def test_token_never_reaches_logs_or_files(
    live_studio: LiveStudio, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    data = tmp_path / "data"
    write_records(data, base_records())
    studio = live_studio.client()
    title = live_studio.project_title("secrets")
    push(studio, load_valid([data]), title=title)
    pull(studio, title=title, data_dir=data)
    assert live_studio.token not in caplog.text
    assert live_studio.token not in repr(studio)
    for path in data.rglob("*"):
        if path.is_file():
            assert live_studio.token.encode() not in path.read_bytes(), path
    assert (live_studio.home / "credentials.json").stat().st_mode & 0o777 == 0o600
    state = server.read_state(live_studio.home)
    assert state is not None and state["url"].startswith("http://127.0.0.1:")


def _listening_addresses(port: int) -> set[str]:
    """Local addresses of sockets listening on ``port`` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].rsplit(":", 1)
            if int(hex_port, 16) == port and fields[3] == "0A":
                found.add(address)
    return found


def test_server_listens_on_loopback_only(live_studio: LiveStudio) -> None:
    port = int(live_studio.url.rsplit(":", 1)[1])
    addresses = _listening_addresses(port)
    assert addresses == {"0100007F"}, addresses  # 127.0.0.1, nothing on 0.0.0.0 or ::
