"""brat standoff (``<stem>.txt`` + ``<stem>.ann``), as written by brat and INCEpTION.

Each ``.txt`` becomes an article (its text exactly as stored: CRLF kept, offsets in code points, as brat
counts them) with one task and one annotation by ``--annotator``. ``.ann`` lines:

- ``T``: a text-bound annotation; a type in ``--label-map`` becomes a span of our label, other types are
  skipped and counted (``import.json``: ``skipped type <name>``). Its text must equal the ``.txt`` at its
  offsets. A discontinuous span (``T1 Source 0 5;9 14``) keeps its covering span (0–14) and records the
  fragments in the span's ``metadata.fragments``, so ``export --format brat`` writes them back as they were.
- ``R`` (relation) and ``E`` (event): every argument mapped to SOURCE or CUE is linked (``source_of``,
  ``cue_of``) to every argument mapped to CLAIM; an event's trigger counts as an argument.
- ``A``/``M`` (attributes), ``#`` (notes), ``N`` (normalisations), ``*`` (equivalences): we do not annotate
  them; attributes and notes are kept in the span's metadata, the rest counted.

A line that cannot be converted goes to ``rejects.jsonl`` (file, line, reason) and the rest of the
document is kept. Such corpora have no stance target and no span attributes: the task's target is the
placeholder :data:`NO_TARGET` and every attribute is declared ``unannotated``, so every schema rule still
applies (offsets, labels, relation endpoints, ids). A folder named train/dev/validation/test sets the split.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schemas import vocabulary as V
from schemas.errors import UnreadableInputError
from stancebank.importers.base import (
    CorpusImportError,
    ImportWriter,
    annotation_record,
    article_record,
    file_timestamp,
    safe_id,
)
from stancebank.importers.conll import SPLIT_STEMS

CORPUS_DEFAULT = "brat"
#: The target of a task imported from a corpus without stance targets (documented in the README).
NO_TARGET = "(no stance target: imported from an attribution corpus)"
_ROLES = {
    V.SpanLabel.SOURCE.value: V.RelationType.SOURCE_OF.value,
    V.SpanLabel.CUE.value: V.RelationType.CUE_OF.value,
}
_OFFSETS = re.compile(r"^\d+ \d+(;\d+ \d+)*$")


def parse_span_map(text: str | None) -> dict[str, str]:
    """'Source=SOURCE,Cue=CUE,Content=CLAIM' → {brat type: our label}."""
    if not text:
        raise CorpusImportError("import brat needs --label-map, e.g. Source=SOURCE,Cue=CUE,Content=CLAIM")
    mapping: dict[str, str] = {}
    for item in text.split(","):
        original, sep, ours = item.partition("=")
        if not sep or not original.strip() or ours.strip() not in V.values(V.SpanLabel):
            raise CorpusImportError(
                f"--label-map items look like BratType=LABEL with LABEL one of {V.values(V.SpanLabel)}; "
                f"got {item!r}"
            )
        mapping[original.strip()] = ours.strip()
    return mapping


@dataclass
class _Doc:
    """What one .ann file yields: spans by brat id, relations, and brat ids that were skipped."""

    spans: dict[str, dict[str, Any]] = field(default_factory=dict)
    alias: dict[str, str] = field(default_factory=dict)  # a T with the same label and offsets as another
    skipped: set[str] = field(default_factory=set)
    triggers: dict[str, str] = field(default_factory=dict)  # event id -> trigger T id
    relations: list[dict[str, str]] = field(default_factory=list)


def pairs(paths: list[Path]) -> list[tuple[Path, Path]]:
    """(txt, ann) pairs from files and folders (searched recursively), by stem, in path order."""
    stems: dict[Path, None] = {}
    for path in paths:
        if path.is_dir():
            for found in sorted(path.rglob("*")):
                if found.suffix in (".txt", ".ann"):
                    stems[found.with_suffix("")] = None
        elif path.suffix in (".txt", ".ann"):
            stems[path.with_suffix("")] = None
        elif not path.exists():
            raise UnreadableInputError(str(path), "no such file")
        else:
            raise CorpusImportError(f"{path}: a brat file ends in .txt or .ann")
    return [(stem.with_suffix(".txt"), stem.with_suffix(".ann")) for stem in stems]


def import_brat(
    writer: ImportWriter,
    paths: list[Path],
    *,
    label_map: dict[str, str],
    annotator: str | None = None,
    corpus: str | None = None,
) -> None:
    name = corpus or CORPUS_DEFAULT
    who = annotator or name
    found = pairs(paths)
    writer.inputs = [p for pair in found for p in pair if p.is_file()]  # import.json hashes the files
    for txt, ann in found:
        missing = next((p for p in (txt, ann) if not p.is_file()), None)
        if missing is not None:
            writer.reject(missing, None, f"no {missing.suffix} file next to {missing.with_suffix('').name}")
            continue
        try:
            text = txt.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            writer.reject(txt, None, f"not UTF-8 (byte {exc.start + 1}); document skipped")
            continue
        if not text.strip():
            writer.reject(txt, None, "the text is empty; document skipped")
            continue
        doc = _read_ann(writer, ann, text, label_map)
        _write(writer, txt, ann, text, doc, name, who)


def _read_ann(writer: ImportWriter, ann: Path, text: str, label_map: dict[str, str]) -> _Doc:
    doc = _Doc()
    try:
        lines = ann.read_bytes().decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        writer.reject(ann, None, f"not UTF-8 (byte {exc.start + 1}); annotations skipped")
        return doc
    links: list[tuple[int, str, list[str]]] = []
    notes: list[tuple[int, str, str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        kind = line[0]
        fields = line.split("\t")
        if kind == "T" and len(fields) >= 3:
            _textbound(writer, ann, number, fields, text, label_map, doc)
        elif kind == "R" and len(fields) >= 2:
            parts = fields[1].split()
            links.append((number, fields[0], [a.split(":", 1)[-1] for a in parts[1:]]))
        elif kind == "E" and len(fields) >= 2:
            parts = fields[1].split()
            trigger = parts[0].split(":", 1)[-1] if parts else ""
            doc.triggers[fields[0]] = trigger
            links.append((number, fields[0], [trigger, *(a.split(":", 1)[-1] for a in parts[1:])]))
        elif kind in "AM#" and len(fields) >= 2:
            _note_line(writer, ann, number, line, fields, notes)
        elif kind in "N*":
            writer.counts[f"skipped line {'normalization' if kind == 'N' else 'equivalence'}"] += 1
        else:
            writer.reject(ann, number, f"not a brat standoff line (T, R, E, A, M, N, #, *): {line[:80]!r}")
    for number, own_id, args in links:
        _link(writer, ann, number, own_id, args, doc)
    for number, target, key, value in notes:
        _note(writer, ann, number, target, key, value, doc)
    return doc


def _note_line(
    writer: ImportWriter,
    ann: Path,
    number: int,
    line: str,
    fields: list[str],
    notes: list[tuple[int, str, str, Any]],
) -> None:
    """An attribute (``A``/``M``: name, target, optional value) or a note (``#``: target and text)."""
    parts = fields[1].split()
    if line[0] == "#" and len(fields) >= 3 and parts:
        notes.append((number, parts[-1], "note", fields[2]))
    elif line[0] != "#" and len(parts) >= 2:
        notes.append((number, parts[1], parts[0], parts[2] if len(parts) > 2 else True))
    else:
        writer.reject(ann, number, f"attribute or note without a target: {line[:80]!r}")


def _textbound(
    writer: ImportWriter,
    ann: Path,
    number: int,
    fields: list[str],
    text: str,
    label_map: dict[str, str],
    doc: _Doc,
) -> None:
    brat_id, header, quoted = fields[0], fields[1], "\t".join(fields[2:])
    kind, _, offsets = header.partition(" ")
    if kind not in label_map:
        writer.counts[f"skipped type {kind}"] += 1
        doc.skipped.add(brat_id)
        return
    if not _OFFSETS.match(offsets):
        writer.reject(ann, number, f"{brat_id}: offsets {offsets!r} are not 'start end[;start end…]'")
        return
    fragments = [tuple(int(v) for v in part.split()) for part in offsets.split(";")]
    bad = next(((s, e) for s, e in fragments if not 0 <= s < e <= len(text)), None)
    if bad is not None:
        writer.reject(ann, number, f"{brat_id}: offsets {bad[0]}-{bad[1]} outside the text (0-{len(text)})")
        return
    found = " ".join(text[s:e] for s, e in fragments)
    if found != quoted:
        writer.reject(
            ann, number, f"{brat_id}: text {quoted[:60]!r} is not the text at {offsets} ({found[:60]!r})"
        )
        return
    start, end = min(s for s, _ in fragments), max(e for _, e in fragments)
    cut = next((p for p in (start, end) if 0 < p < len(text) and text[p - 1 : p + 1] == "\r\n"), None)
    if cut is not None or not text[start:end].strip():
        reason = f"a boundary at {cut} splits a CRLF line break" if cut is not None else "the span is blank"
        writer.reject(ann, number, f"{brat_id}: {reason}")
        return
    label = label_map[kind]
    twin = next(
        (i for i, s in doc.spans.items() if (s["label"], s["start"], s["end"]) == (label, start, end)), None
    )
    if twin is not None:  # two brat ids for one span of ours: relations of either go to the first
        doc.alias[brat_id] = twin
        writer.counts["merged duplicate spans"] += 1
        return
    metadata: dict[str, Any] = {"label": kind, "line": number}
    if len(fragments) > 1:
        metadata["fragments"] = [list(f) for f in fragments]
    doc.spans[brat_id] = {
        "id": brat_id,
        "label": label,
        "start": start,
        "end": end,
        "text": text[start:end],
        "metadata": metadata,
    }


def _resolve(ref: str, doc: _Doc) -> str | None:
    ref = doc.triggers.get(ref, ref)
    return doc.alias.get(ref, ref)


def _link(writer: ImportWriter, ann: Path, number: int, own_id: str, args: list[str], doc: _Doc) -> None:
    resolved = [_resolve(a, doc) for a in args]
    unknown = [a for a, r in zip(args, resolved, strict=True) if r not in doc.spans and r not in doc.skipped]
    if unknown:
        writer.reject(ann, number, f"{own_id}: argument {unknown[0]} is not a kept text-bound annotation")
        return
    kept = [doc.spans[r] for r in resolved if r in doc.spans]
    claims = [s for s in kept if s["label"] == V.SpanLabel.CLAIM.value]
    heads = [s for s in kept if s["label"] in _ROLES]
    if not claims or not heads:
        writer.counts["skipped relations without a mapped head and claim"] += 1
        return
    for head in heads:
        for claim in claims:
            relation = {"type": _ROLES[head["label"]], "from_id": head["id"], "to_id": claim["id"]}
            if relation not in doc.relations:
                doc.relations.append(relation)


def _note(writer: ImportWriter, ann: Path, number: int, target: str, key: str, value: Any, doc: _Doc) -> None:
    resolved = _resolve(target, doc)
    if resolved in doc.spans:
        bucket = doc.spans[resolved]["metadata"].setdefault("notes" if key == "note" else "attributes", {})
        if key == "note":
            bucket[str(number)] = value
        else:
            bucket[key] = value
    elif resolved in doc.skipped:
        writer.counts["skipped attributes of skipped types"] += 1
    else:
        writer.reject(ann, number, f"{key} of {target}, which is not a text-bound annotation of this file")


def _write(writer: ImportWriter, txt: Path, ann: Path, text: str, doc: _Doc, corpus: str, who: str) -> None:
    split = SPLIT_STEMS.get(txt.parent.name.lower())
    article_id = safe_id(corpus, *([txt.parent.name] if split else []), txt.stem)
    meta: dict[str, Any] = {"corpus": corpus, "file": txt.name}
    if split:
        meta["split"] = split
    writer.article(
        article_record(
            article_id,
            text,
            title=txt.stem,
            licence=f"as licensed by the source of {txt.name}",
            provenance=f"brat standoff {txt.name} + {ann.name}",
            metadata=meta,
        )
    )
    writer.target({"target_id": article_id, "article_id": article_id, "text": NO_TARGET})
    record = annotation_record(
        safe_id(article_id, who),
        article_id,
        article_id,
        annotator=who,
        timestamp=file_timestamp(ann),
        spans=sorted(doc.spans.values(), key=lambda s: (s["start"], s["end"], s["id"])),
        unannotated=list(V.ATTRIBUTE_VALUES),
        metadata={"corpus": corpus, "file": ann.name},
    )
    record["relations"] = doc.relations
    writer.counts["relations"] += len(doc.relations)
    writer.counts["documents"] += 1
    writer.annotation(record)
