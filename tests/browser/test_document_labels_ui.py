"""Document-level choices in a real browser (Debian chromium driven by Playwright): an annotator clicks
related / doc_stance for whole tasks, submits, and pull gives exactly those labels; doc_stance shows only
with related = yes, and switching to no drops a stance already picked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from annotate.pull import pull
from annotate.push import existing_tasks, push
from stancebank.validate import load_valid
from tests.browser.test_labelling_ui import ARTIFACTS, _login, browser  # noqa: F401 (browser: a fixture)
from tests.conftest import LiveStudio
from tests.corpus_factory import base_records, write_records

pytestmark = [pytest.mark.integration, pytest.mark.browser]


@pytest.fixture
def project(live_studio: LiveStudio, tmp_path: Path) -> tuple[Path, str, int, dict[str, int]]:
    records = base_records()
    records["annotations"] = []
    data = write_records(tmp_path / "data", records)
    (data / "annotations" / "amira.jsonl").unlink()
    studio, title = live_studio.client(), live_studio.project_title("document")
    report = push(studio, load_valid([data]), title=title, document_labels=True)
    tasks = {key: task["id"] for key, task in existing_tasks(studio, report.project_id).items()}
    return data, title, report.project_id, tasks


def _choice(page: Any, value: str) -> Any:
    """The choice ``value`` (its label also shows a hotkey, so it is found by its input's name)."""
    return page.locator(f'label.lsf-choice__checkbox:has(input[name="{value}"])').first


def _label_task(page: Any, url: str, values: tuple[str, ...], shot: str) -> None:
    page.goto(url)
    page.wait_for_selector(".lsf-richtext__line")
    for value in values:
        _choice(page, value).click()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / shot))
    page.get_by_role("button", name="Submit").click()
    page.wait_for_timeout(2000)


def test_annotator_clicks_document_choices_and_pull_gives_them(
    browser: Any,  # noqa: F811
    live_studio: LiveStudio,
    project: tuple[Path, str, int, dict[str, int]],
) -> None:
    data, title, project_id, tasks = project
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    _login(page, live_studio)
    base = f"{live_studio.url}/projects/{project_id}/data?task="
    _label_task(page, base + str(tasks["a1|a1:t1"]), ("yes", "oppose"), "document-yes-oppose.png")
    # a stance picked, then related switched to no: the stance is hidden and not submitted
    _label_task(page, base + str(tasks["a2|a2:t1"]), ("yes", "neutral", "no"), "document-no.png")
    page.close()

    pulled = pull(live_studio.client(), title=title, data_dir=data)
    assert (pulled.exported, pulled.converted, pulled.rejected) == (2, 2, 0), pulled.rejects
    records = [json.loads(line) for line in pulled.written.read_text(encoding="utf-8").splitlines()]
    got = {r["target_id"]: (r.get("related"), r.get("doc_stance"), r["spans"]) for r in records}
    assert got == {"a1:t1": (True, "oppose", []), "a2:t1": (False, None, [])}
