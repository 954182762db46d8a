"""A real Label Studio for the integration tests: started once per session, on a free port."""

from __future__ import annotations

import itertools
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import settings

from annotate import server
from annotate.client import Studio

# CI explores the same examples every run (a red CI must be reproducible); locally, new ones each run.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LiveStudio:
    home: Path
    url: str
    token: str = field(repr=False)
    _titles: Iterator[int] = field(repr=False)

    def client(self) -> Studio:
        return Studio(self.url, self.token, timeout=30, retries=2, backoff=0.2)

    def project_title(self, name: str) -> str:
        return f"{name} {next(self._titles)}"


@pytest.fixture(scope="session")
def live_studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStudio]:
    home = tmp_path_factory.mktemp("studio")
    venv = os.environ.get("STANCEBANK_LS_VENV") or str(REPO / ".studio" / "venv")
    previous = {k: os.environ.get(k) for k in ("STANCEBANK_LS_VENV", "STANCEBANK_STUDIO_HOME")}
    os.environ["STANCEBANK_LS_VENV"] = venv
    os.environ["STANCEBANK_STUDIO_HOME"] = str(home)
    state = server.start(home, port=free_port())
    try:
        yield LiveStudio(home, state["url"], server.credentials(home).token, itertools.count(1))
    finally:
        server.stop(home)
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _spark_missing() -> str | None:
    """Why the Spark tests cannot run here (None: they can)."""
    import importlib.util
    import shutil

    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install 'stancebank[spark]')"
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        return "no Java (make java-deps)"
    return None


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """One local Spark session for the whole test run: two cores, a 1 GiB driver heap."""
    reason = _spark_missing()
    if reason:
        pytest.skip(reason)
    from stancebank.spark import session

    os.environ.setdefault("STANCEBANK_SPARK_DRIVER_MEMORY", "1g")
    os.environ.setdefault("STANCEBANK_SPARK_PARTITIONS", "2")
    spark_session = session("local[2]")
    try:
        yield spark_session
    finally:
        spark_session.stop()
