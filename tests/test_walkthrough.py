"""The README's "Your own project" walk-through, run with the command line in an empty folder against a
real Label Studio: init → import text → studio push → two annotators label (through the SDK, as the
browser would) → pull → agreement → adjudicate → export → train."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from annotate import convert
from annotate.push import existing_tasks
from stancebank.cli import main
from tests.conftest import LiveStudio

pytestmark = pytest.mark.integration

SPEAKERS = (
    "The mayor",
    "A port official",
    "The union leader",
    "A shipping analyst",
    "The minister",
    "An engineer",
)
STORY = "{speaker} said the harbour may reopen in May.\nRepairs continue on the north pier.\n"
TARGET = "The harbour will reopen in May."


def _spans(text: str, stance: str, certainty: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    def span(span_id: str, label: str, piece: str, **attrs: str) -> dict[str, Any]:
        start = text.index(piece)
        return {
            "id": span_id,
            "label": label,
            "start": start,
            "end": start + len(piece),
            "text": piece,
            **attrs,
        }

    speaker = text.split(" said ", maxsplit=1)[0]
    spans = [
        span("s1", "SOURCE", speaker, identified="anonymous", source_type="government", reliability="mixed"),
        span("q1", "CUE", "said", cue_type="attribution"),
        span(
            "c1",
            "CLAIM",
            "the harbour may reopen in May",
            stance=stance,
            certainty=certainty,
            polarity="positive",
        ),
    ]
    relations = [
        {"type": "source_of", "from_id": "s1", "to_id": "c1"},
        {"type": "cue_of", "from_id": "q1", "to_id": "c1"},
    ]
    return spans, relations


def test_your_own_project_end_to_end(
    live_studio: LiveStudio,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = tmp_path / "harbour"
    assert main(["init", str(root), "--name", "Harbour news", "--license", "cc-by-4.0"]) == 0
    texts = tmp_path / "my-articles"
    texts.mkdir()
    for number, speaker in enumerate(SPEAKERS, start=1):
        (texts / f"story-{number}.txt").write_text(STORY.format(speaker=speaker), encoding="utf-8")
    monkeypatch.chdir(root)
    assert main(["import", "text", str(texts), "--target", TARGET, "--quiet"]) == 0
    assert main(["validate"]) == 0

    title = live_studio.project_title("walkthrough")  # the server is the session's (STANCEBANK_STUDIO_HOME)
    assert main(["studio", "push", "--project", title]) == 0
    studio = live_studio.client()
    project = studio.find_project(title)
    assert project is not None
    tasks = existing_tasks(studio, int(project["id"]))
    assert len(tasks) == len(SPEAKERS)
    users = {
        name: studio.create_user(f"{name}-{project['id']}", f"{name}{project['id']}@example.org")
        for name in ("ana", "ben")
    }
    articles = {
        a["article_id"]: a["text"]
        for a in map(json.loads, (root / "data" / "articles.jsonl").read_text(encoding="utf-8").splitlines())
    }
    for number, (key, task) in enumerate(sorted(tasks.items())):
        text = articles[key.split("|")[0]]
        for name, stance in (("ana", "support"), ("ben", "support" if number % 3 else "neutral")):
            spans, relations = _spans(text, stance, "possible")
            studio.create_annotation(
                task["id"], convert.annotation_to_results(spans, relations), completed_by=users[name]
            )
        assert key.endswith(":t1")
    capsys.readouterr()

    assert main(["studio", "pull", "--project", title]) == 0
    out = capsys.readouterr().out
    assert f"exported {2 * len(SPEAKERS)} = converted {2 * len(SPEAKERS)} + rejected 0" in out
    assert main(["validate"]) == 0
    assert main(["agreement", "--bootstrap", "20"]) == 0
    assert (root / "reports" / "agreement").is_dir()
    annotators = {
        json.loads(line)["annotator"]
        for path in (root / "data" / "annotations").glob("ls-*.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines()
    }
    assert len(annotators) == 2
    assert main(["adjudicate", "--adjudicator", sorted(annotators)[0]]) == 0
    assert (root / "data" / "annotations" / "gold.jsonl").exists()
    assert main(["export"]) == 0
    assert (root / "data" / "hf" / "README.md").exists()
    assert main(["train", "--task", "stance", "--model", "majority"]) == 0
    assert any((root / "reports").rglob("metrics.json"))
