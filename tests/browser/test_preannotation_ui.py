"""Pre-annotation in a real browser: an attribution model's SOURCE/CUE/CLAIM proposals are pushed as
predictions, an annotator replaces the proposed CLAIM with a corrected one and submits, and ``pull``
brings back exactly the kept proposals and the corrected span (code points after emoji and CRLF)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from annotate.matching import Span
from annotate.pull import pull
from annotate.push import existing_tasks, push
from stancebank.validate import load_valid
from tests.browser.test_labelling_ui import _RECT, ARTIFACTS, _center, _login, _title, browser  # noqa: F401
from tests.conftest import LiveStudio
from tests.corpus_factory import TEXT, base_records, write_records
from train.attribution.pipeline import AttributionModel, Example
from train.attribution.preannotate import predict_attribution
from train.attribution.run import save

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def _model(path: Path) -> Path:
    people = ["The minister", "A spokesperson", "Officials", "The mayor"]
    claims = ["the talks may resume", "prices may rise", "the bridge may reopen"]
    examples = []
    for i in range(12):
        who, what = people[i % 4], claims[i % 3]
        text = f"News of the day.\r\n{who} said {what}."
        s, q = 18, 18 + len(who) + 1
        spans = [Span("s", "SOURCE", s, s + len(who)), Span("q", "CUE", q, q + 4)]
        spans.append(Span("c", "CLAIM", q + 5, q + 5 + len(what)))
        examples.append(Example(f"x{i}", text, spans, {("source_of", "s", "c"), ("cue_of", "q", "c")}))
    save(AttributionModel(model="crf").fit(examples), path)
    return path


def test_an_annotator_corrects_a_proposed_claim(  # noqa: PLR0915
    browser: Any,  # noqa: F811
    live_studio: LiveStudio,
    tmp_path: Path,
) -> None:
    records = base_records()
    records["annotations"] = []
    data = tmp_path / "data"
    write_records(data, records)
    (data / "annotations" / "amira.jsonl").unlink()
    corpus = load_valid([data])
    predictions = predict_attribution(_model(tmp_path / "model-crf.skops"), corpus)
    record = next(r for r in predictions if r["task_key"] == "a1|a1:t1")
    proposed = {x["id"]: x["value"] for x in record["result"] if x["type"] == "labels"}
    claims = [i for i, v in proposed.items() if v["labels"] == ["CLAIM"]]
    assert len(claims) == 1, proposed  # the model proposes one claim here; the annotator corrects it
    (tmp_path / "p.jsonl").write_text("".join(json.dumps(r) + "\n" for r in predictions), encoding="utf-8")
    studio = live_studio.client()
    report = push(
        studio, corpus, title=live_studio.project_title("preannotation"), predictions=tmp_path / "p.jsonl"
    )
    assert report.predictions == len(predictions)
    # push made the predictions' model version the project's: the labelling screen pre-fills with it
    assert studio._ls.projects.get(id=report.project_id).model_version == record["model_version"]
    task = existing_tasks(studio, report.project_id)["a1|a1:t1"]

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    _login(page, live_studio)
    page.goto(f"{live_studio.url}/projects/{report.project_id}/data?task={task['id']}")
    page.wait_for_selector(".lsf-richtext__line")
    page.wait_for_timeout(1500)
    claim_text = proposed[claims[0]]["text"]
    tail = claim_text.split()[-1]
    page.mouse.click(*_center(_drag_box(page, tail)))  # select the proposed CLAIM by its last word
    page.keyboard.press("Backspace")
    page.keyboard.press("Escape")
    page.locator(".lsf-label", has_text="CLAIM").first.click()
    corrected = "host the talks"
    claim_box = _drag(page, corrected)
    page.keyboard.press("Escape")
    values = {"SOURCE": ("named", "government", "high"), "CUE": ("attribution",)}
    for v in proposed.values():  # the annotator fills in what the model does not propose
        if v["labels"][0] in values:
            page.mouse.click(*_center(_drag_box(page, v["text"])))
            for value in values[v["labels"][0]]:
                page.locator("label", has_text=value).first.click()
            page.keyboard.press("Escape")
    page.mouse.click(*_center(claim_box))
    for value in ("support", "possible", "positive"):
        page.locator("label", has_text=value).first.click()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "preannotation-corrected.png"))
    page.get_by_role("button", name="Submit").click()
    page.wait_for_timeout(2000)
    page.close()

    pulled = pull(live_studio.client(), title=_title(live_studio, report.project_id), data_dir=data)
    assert (pulled.exported, pulled.converted, pulled.rejected) == (1, 1, 0), pulled.rejects
    (annotation,) = [json.loads(line) for line in pulled.written.read_text(encoding="utf-8").splitlines()]
    got = {(s["label"], s["start"], s["end"], s["text"]) for s in annotation["spans"]}
    kept = {(v["labels"][0], v["start"], v["end"], v["text"]) for i, v in proposed.items() if i not in claims}
    start = TEXT.index(corrected)
    assert got == kept | {("CLAIM", start, start + len(corrected), corrected)}
    for label, s, e, text in got:
        assert TEXT[s:e] == text, label


#: The article is the last text on the screen (the target is shown above it): search lines from the end.
_LAST = _RECT.replace(
    "document.querySelectorAll('.lsf-richtext__line')",
    "[...document.querySelectorAll('.lsf-richtext__line')].reverse()",
)


def _drag_box(page: Any, needle: str) -> dict[str, float]:
    box = page.evaluate(_LAST, needle)
    assert box, f"{needle!r} not found in the article"
    return dict(box)


def _drag(page: Any, needle: str) -> dict[str, float]:
    box = _drag_box(page, needle)
    y = box["y"] + box["h"] / 2
    page.mouse.move(box["x"] + 1, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["w"] - 1, y, steps=12)
    page.mouse.up()
    return box
