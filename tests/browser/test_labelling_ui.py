"""The labelling UI in a real browser (Debian chromium driven by Playwright): a span selected with the mouse
after emoji and CRLF comes back with exact code-point offsets; article HTML is shown as text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from annotate.pull import pull
from annotate.push import existing_tasks, push
from stancebank.validate import load_valid
from tests.conftest import LiveStudio
from tests.corpus_factory import TEXT, base_records, write_records

pytestmark = [pytest.mark.integration, pytest.mark.browser]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
XSS = 'Before <script>window.__xss = 1</script> <img src=x onerror="window.__xss = 2"> &amp; after.'

_RECT = """(needle) => {
  for (const line of document.querySelectorAll('.lsf-richtext__line')) {
    const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
    let node;
    while ((node = walker.nextNode())) {
      const at = node.textContent.indexOf(needle);
      if (at >= 0) {
        const range = document.createRange();
        range.setStart(node, at);
        range.setEnd(node, at + needle.length);
        const box = range.getBoundingClientRect();
        return {x: box.left, y: box.top, w: box.width, h: box.height};
      }
    }
  }
  return null;
}"""


@pytest.fixture(scope="module")
def browser() -> Any:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is missing: `make browser-deps` installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield launched
        launched.close()


def _login(page: Any, live_studio: LiveStudio) -> None:
    creds = json.loads((live_studio.home / "credentials.json").read_text())
    page.goto(f"{live_studio.url}/user/login")
    page.fill("input[name=email]", creds["email"])
    page.fill("input[name=password]", creds["password"])
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def _drag_over(page: Any, needle: str) -> dict[str, float]:
    page.wait_for_selector(".lsf-richtext__line")
    box = page.evaluate(_RECT, needle)
    assert box, f"{needle!r} not found in the labelling screen"
    y = box["y"] + box["h"] / 2
    page.mouse.move(box["x"] + 1, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["w"] - 1, y, steps=12)
    page.mouse.up()
    return box


@pytest.fixture
def project(live_studio: LiveStudio, tmp_path: Path) -> tuple[Path, int, dict[str, int]]:
    records = base_records()
    records["annotations"] = []
    records["articles"][1]["text"] = XSS
    data = tmp_path / "data"
    write_records(data, records)
    (data / "annotations" / "amira.jsonl").unlink()  # no annotations yet: the browser makes the first
    studio = live_studio.client()
    report = push(studio, load_valid([data]), title=live_studio.project_title("browser"))
    tasks = {key: task["id"] for key, task in existing_tasks(studio, report.project_id).items()}
    return data, report.project_id, tasks


def _center(box: dict[str, float]) -> tuple[float, float]:
    return box["x"] + box["w"] / 2, box["y"] + box["h"] / 2


def test_mouse_selection_after_emoji_and_crlf_round_trips(
    browser: Any, live_studio: LiveStudio, project: tuple[Path, int, dict[str, int]]
) -> None:
    """SOURCE and CLAIM selected with the mouse after emoji and CRLF, attributes clicked, a source_of
    relation drawn and labelled, submitted; pull gives exactly these spans and the relation."""
    data, project_id, tasks = project
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    _login(page, live_studio)
    page.goto(f"{live_studio.url}/projects/{project_id}/data?task={tasks['a1|a1:t1']}")
    page.wait_for_selector(".lsf-richtext__line")
    page.locator(".lsf-label", has_text="SOURCE").first.click()
    source_box = _drag_over(page, "The minister")
    page.keyboard.press("Escape")
    page.locator(".lsf-label", has_text="CLAIM").first.click()
    claim = "東京 may host the talks"
    claim_box = _drag_over(page, claim)
    page.keyboard.press("Escape")
    page.mouse.click(*_center(source_box))
    page.get_by_label("Create Relation").click()
    page.mouse.click(*_center(claim_box))
    page.get_by_text("Relations", exact=True).first.click()
    page.locator(".lsf-relations__item").first.hover()
    page.get_by_label("Show Relation Labels").first.click()
    page.get_by_text("Select labels").click()
    page.get_by_text("source_of", exact=True).last.click()
    page.keyboard.press("Escape")
    for box, values in (
        (source_box, ("named", "government", "high")),
        (claim_box, ("support", "possible", "positive")),
    ):
        page.mouse.click(*_center(box))
        for value in values:
            page.locator("label", has_text=value).first.click()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "labelling-emoji-crlf.png"))
    page.get_by_role("button", name="Submit").click()
    page.wait_for_timeout(2000)
    page.close()

    pulled = pull(live_studio.client(), title=_title(live_studio, project_id), data_dir=data)
    assert (pulled.exported, pulled.converted, pulled.rejected) == (1, 1, 0), pulled.rejects
    (record,) = [json.loads(line) for line in pulled.written.read_text(encoding="utf-8").splitlines()]
    source, claim_span = record["spans"]
    start = TEXT.index(claim)
    assert (source["label"], source["start"], source["end"], source["text"]) == (
        "SOURCE",
        15,
        27,
        "The minister",
    )
    assert TEXT[15:27] == "The minister"
    assert (claim_span["start"], claim_span["end"], claim_span["text"]) == (start, start + len(claim), claim)
    assert (claim_span["stance"], claim_span["certainty"], claim_span["polarity"]) == (
        "support",
        "possible",
        "positive",
    )
    assert (source["identified"], source["source_type"], source["reliability"]) == (
        "named",
        "government",
        "high",
    )
    assert record["relations"] == [{"type": "source_of", "from_id": source["id"], "to_id": claim_span["id"]}]


def _title(live_studio: LiveStudio, project_id: int) -> str:
    return str(live_studio.client().project(project_id)["title"])


def test_article_html_is_shown_as_text(
    browser: Any, live_studio: LiveStudio, project: tuple[Path, int, dict[str, int]]
) -> None:
    _, project_id, tasks = project
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    _login(page, live_studio)
    page.goto(f"{live_studio.url}/projects/{project_id}/data?task={tasks['a2|a2:t1']}")
    page.wait_for_selector(".lsf-richtext__line")
    page.wait_for_timeout(1500)
    shown = page.evaluate(
        "() => [...document.querySelectorAll('.lsf-richtext__line')].map(l => l.textContent)"
    )
    assert XSS in "".join(shown)
    assert page.evaluate("() => window.__xss") is None
    assert (
        page.evaluate(
            "() => document.querySelectorAll('.lsf-richtext__line img, .lsf-richtext__line script').length"
        )
        == 0
    )
    assert dialogs == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "labelling-xss-as-text.png"))
    page.close()
