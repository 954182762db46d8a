"""A compact plain-text format for writing stories and their annotations by hand.

Offsets are the error-prone part of hand annotation, so the author quotes span text instead and this
module finds it (the ``#n``-th occurrence when it repeats). The output is the canonical JSONL layout;
``tests`` check that the committed data/ is exactly what the authoring file builds.

Format (blank lines between blocks are ignored; ``#`` starts a comment line)::

    ## article-id
    title: Harbour authority delays ferry terminal
    outlet: Coastal Ledger            # optional: url, published, provenance, licence, outlet_reliability
    language: en
    newline: crlf                     # optional: join text lines with CRLF instead of LF
    target t1: The ferry terminal expansion will go ahead this year.
    text:
    | First line of the article.
    | Second line.
    @alice t1                         # an annotation of task (article, t1) by alice
    S src: "Port director Lina Haddad" named government high
    Q q1: "said" attribution          # Q is a CUE
    C c1: "finished by autumn" support probable positive < src q1
    @bob t1 like alice                # start from alice's spans; then override or drop
    C c1: "finished by autumn" support possible positive < src q1
    - q1

``< a b`` draws a relation from each listed span to this CLAIM (its type follows from the head's label).
A quote may end in ``#2`` for the second occurrence of the text.
"""

from __future__ import annotations

import hashlib
import re
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from schemas import vocabulary as V
from stancebank.corpus import dumps_jsonl, write_atomic

_LABELS = {"S": V.SpanLabel.SOURCE, "Q": V.SpanLabel.CUE, "C": V.SpanLabel.CLAIM}
_HEAD_RELATION = {head: rel for rel, (head, _tail) in V.RELATION_ENDPOINTS.items()}
_SPAN_LINE = re.compile(r'^([SQC]) (\S+): "(.+?)"(?:#(\d+))? ?([^<]*?)\s*(?:<\s*(.*))?$')
GUIDELINE_VERSION = "1.0"
_EPOCH = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


class AuthoringError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")


@dataclass
class _Annotation:
    annotator: str
    target: str
    spans: dict[str, dict[str, Any]] = field(default_factory=dict)
    heads: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class _Story:
    article_id: str
    fields: dict[str, str] = field(default_factory=dict)
    targets: dict[str, str] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    annotations: list[_Annotation] = field(default_factory=list)

    @property
    def text(self) -> str:
        sep = "\r\n" if self.fields.get("newline") == "crlf" else "\n"
        return sep.join(self.lines)


def parse(source: str) -> list[_Story]:
    stories: list[_Story] = []
    story: _Story | None = None
    annotation: _Annotation | None = None
    for number, raw in enumerate(source.splitlines(), start=1):
        line = raw.rstrip()
        if not line or (line.startswith("#") and not line.startswith("## ")):
            continue
        if line.startswith("## "):
            story, annotation = _Story(line[3:].strip()), None
            stories.append(story)
            continue
        if story is None:
            raise AuthoringError(number, "content before the first '## article-id'")
        if line.startswith("| ") or line == "|":
            story.lines.append(line[2:])
        elif line.startswith("@"):
            annotation = _start_annotation(story, line[1:].split(), number)
        elif annotation is not None:
            _annotation_line(story, annotation, line, number)
        elif line.startswith("target "):
            key, _, text = line[len("target ") :].partition(": ")
            story.targets[key] = text
        elif line != "text:":
            key, _, value = line.partition(": ")
            story.fields[key] = value
    return stories


def _start_annotation(story: _Story, words: list[str], number: int) -> _Annotation:
    annotator, target = words[0], words[1]
    annotation = _Annotation(annotator, target)
    if len(words) == 4 and words[2] == "like":
        base = next((a for a in story.annotations if a.annotator == words[3]), None)
        if base is None:
            raise AuthoringError(number, f"no earlier annotation by {words[3]!r}")
        annotation.spans = {k: dict(v) for k, v in base.spans.items()}
        annotation.heads = {k: list(v) for k, v in base.heads.items()}
    story.annotations.append(annotation)
    return annotation


def _annotation_line(story: _Story, annotation: _Annotation, line: str, number: int) -> None:
    if line.startswith("- "):
        for span_id in line[2:].split():
            annotation.spans.pop(span_id, None)
            annotation.heads.pop(span_id, None)
        return
    match = _SPAN_LINE.match(line)
    if not match:
        raise AuthoringError(number, f"cannot read span line {line!r}")
    kind, span_id, quote, nth, attrs, heads = match.groups()
    label = _LABELS[kind]
    start, quote = _locate(story, quote, int(nth) if nth else None, number)
    span: dict[str, Any] = {
        "id": span_id,
        "label": label.value,
        "start": start,
        "end": start + len(quote),
        "text": quote,
    }
    span.update(_attributes(label, attrs.split(), number))
    annotation.spans[span_id] = span
    annotation.heads[span_id] = heads.split() if heads else []


def _attributes(label: V.SpanLabel, given: list[str], number: int) -> dict[str, str]:
    """Attribute values in any order: the value sets of one label's attributes do not overlap."""
    wanted = V.SPAN_ATTRIBUTES[label]
    found: dict[str, str] = {}
    for value in given:
        names = [name for name, values in wanted.items() if value in V.values(values)]
        if len(names) != 1 or names[0] in found:
            raise AuthoringError(number, f"{value!r} is not a free value for {label}: {list(wanted)}")
        found[names[0]] = value
    if set(found) != set(wanted):
        raise AuthoringError(number, f"{label} needs {list(wanted)}, got {given}")
    return {name: found[name] for name in wanted}


def _locate(story: _Story, quote: str, nth: int | None, number: int) -> tuple[int, str]:
    """Offset and text of a quote; ``"ctx [span] ctx"`` marks the span inside a unique context."""
    text = story.text
    inner, offset = quote, 0
    if "[" in quote and "]" in quote:
        before, _, rest = quote.partition("[")
        inner, _, after = rest.partition("]")
        quote, offset = before + inner + after, len(before)
    hits = [m.start() for m in re.finditer(re.escape(quote), text)]
    if not hits:
        raise AuthoringError(number, f"{quote!r} not in {story.article_id}")
    if nth is None and len(hits) > 1:
        raise AuthoringError(
            number,
            f"{quote!r} occurs {len(hits)} times in {story.article_id}: add context with [..] or #n",
        )
    if nth is not None and nth > len(hits):
        raise AuthoringError(number, f"{quote!r} occurs only {len(hits)} times")
    return hits[(nth or 1) - 1] + offset, inner


def to_records(stories: list[_Story]) -> dict[str, list[dict[str, Any]]]:
    """The JSONL records of every table, in the canonical layout."""
    articles, targets, annotations = [], [], []
    tick = 0
    for story in stories:
        f = story.fields
        metadata = {k[len("meta.") :]: v for k, v in f.items() if k.startswith("meta.")}
        articles.append(
            {
                "article_id": story.article_id,
                "title": f["title"],
                "text": story.text,
                "outlet": f.get("outlet"),
                "url": f.get("url"),
                "published": f.get("published"),
                "language": f.get("language", "en"),
                "outlet_reliability": f.get("outlet_reliability", V.Reliability.UNKNOWN.value),
                "synthetic": f.get("synthetic", "true") == "true",
                "licence": f.get("licence", "CC-BY-4.0"),
                "provenance": f.get("provenance", "written for StanceBank by its developers"),
                "metadata": metadata,
            }
        )
        for key, text in story.targets.items():
            targets.append(
                {
                    "target_id": f"{story.article_id}:{key}",
                    "article_id": story.article_id,
                    "text": text,
                }
            )
        for annotation in story.annotations:
            tick += 1
            created = _EPOCH + timedelta(minutes=7 * tick)
            annotations.append(_annotation_record(story, annotation, created))
    return {"articles": articles, "targets": targets, "annotations": annotations}


def _annotation_record(story: _Story, annotation: _Annotation, created: datetime) -> dict[str, Any]:
    spans = sorted(annotation.spans.values(), key=lambda s: (s["start"], s["end"], s["label"]))
    relations = []
    for span in spans:
        for head in annotation.heads.get(span["id"], []):
            if head not in annotation.spans:
                raise AuthoringError(
                    0,
                    f"{story.article_id}/{annotation.annotator}: {span['id']} names unknown head {head!r}",
                )
            head_label = V.SpanLabel(annotation.spans[head]["label"])
            relations.append({"type": _HEAD_RELATION[head_label].value, "from_id": head, "to_id": span["id"]})
    stamp = created.isoformat().replace("+00:00", "Z")
    done = (created + timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    return {
        "annotation_id": f"{story.article_id}:{annotation.target}:{annotation.annotator}",
        "article_id": story.article_id,
        "target_id": f"{story.article_id}:{annotation.target}",
        "annotator": annotation.annotator,
        "created_at": stamp,
        "updated_at": done,
        "guideline_version": GUIDELINE_VERSION,
        "config_hash": None,
        "ls_task_id": None,
        "ls_annotation_id": None,
        "spans": spans,
        "relations": relations,
    }


def build(source: Path, out: Path) -> dict[str, int]:
    """Write ``out``/articles.jsonl, targets.jsonl and annotations/<annotator>.jsonl from ``source``."""
    records = to_records(parse(source.read_text(encoding="utf-8")))
    write_atomic(out / "articles.jsonl", dumps_jsonl(records["articles"]))
    write_atomic(out / "targets.jsonl", dumps_jsonl(records["targets"]))
    by_annotator: dict[str, list[dict[str, Any]]] = {}
    for record in records["annotations"]:
        by_annotator.setdefault(record["annotator"], []).append(record)
    for annotator, rows in by_annotator.items():
        write_atomic(out / "annotations" / f"{annotator}.jsonl", dumps_jsonl(rows))
    return {name: len(rows) for name, rows in records.items()}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


if __name__ == "__main__":
    print(build(Path(sys.argv[1]), Path(sys.argv[2])))
