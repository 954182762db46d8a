"""FNC-1 (Fake News Challenge stage 1): a headline's stance toward a news body.

Each body becomes an article, each (headline, body) row a target with one annotation by ``fnc-1``
carrying the document-level label: ``agree`` → related, support; ``disagree`` → related, oppose;
``discuss`` → related, neutral; ``unrelated`` → ``related: false`` (no stance). The original label, row
and body id stay in the annotation's metadata; nothing is merged. A stances file without a ``Stance``
column (the unlabelled competition test file) gives targets without annotations.

Inputs are recognised by content: a CSV whose header has ``articleBody`` holds bodies, one with
``Headline`` holds pairs, and ``*_body_ids.txt`` files list the body ids of a split (``training`` →
train, ``hold_out`` → test, any other prefix kept as the split name).
"""

from __future__ import annotations

from pathlib import Path

from schemas import vocabulary as V
from stancebank.importers.base import (
    CorpusImportError,
    ImportWriter,
    annotation_record,
    article_record,
    file_timestamp,
    safe_id,
)
from stancebank.inputs import open_input

CORPUS = "fnc-1"
ANNOTATOR = "fnc-1"
LICENCE = "research use only: FNC-1 states no licence; bodies are third-party news text"
#: FNC-1 label -> (related, doc_stance).
LABELS: dict[str, tuple[bool, str | None]] = {
    "agree": (True, V.Stance.SUPPORT.value),
    "disagree": (True, V.Stance.OPPOSE.value),
    "discuss": (True, V.Stance.NEUTRAL.value),
    "unrelated": (False, None),
}
SPLIT_NAMES = {"training": "train", "train": "train", "hold_out": "test", "holdout": "test"}


def _expand(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        files += (
            sorted(p for p in path.iterdir() if p.suffix in (".csv", ".txt")) if path.is_dir() else [path]
        )
    return files


def _header(path: Path) -> str:
    try:
        with open_input(path) as handle:
            return handle.readline(1 << 16).decode("utf-8", errors="replace")
    except OSError:
        return ""  # the writer reports unreadable files with the reason


def classify(files: list[Path]) -> tuple[list[Path], list[Path], dict[str, Path]]:
    """(bodies files, stances files, split name -> ids file)."""
    bodies, stances, splits = [], [], {}
    for path in files:
        if path.suffix == ".txt" and path.name.endswith("_body_ids.txt"):
            prefix = path.name[: -len("_body_ids.txt")]
            splits[SPLIT_NAMES.get(prefix, prefix)] = path
        elif path.suffix == ".txt" and path.name in ("PROVENANCE.txt", "README.txt"):
            continue
        elif "articleBody" in _header(path):
            bodies.append(path)
        elif "Headline" in _header(path):
            stances.append(path)
        else:
            raise CorpusImportError(
                f"{path}: not an FNC-1 file (expected a bodies CSV with 'Body ID,articleBody', a stances "
                "CSV with 'Headline,Body ID[,Stance]' or a '<split>_body_ids.txt' list)"
            )
    if not bodies or not stances:
        raise CorpusImportError("fnc1 needs a bodies CSV and a stances CSV (or the folder holding them)")
    return bodies, stances, splits


def import_fnc1(writer: ImportWriter, paths: list[Path]) -> None:
    bodies, stances, split_files = classify(_expand(paths))
    writer.inputs = [*bodies, *stances, *split_files.values()]
    split_of: dict[str, str] = {}
    for split, path in split_files.items():
        for text in writer.lines(path):
            body_id = text.strip()
            if body_id and split_of.setdefault(body_id, split) != split:
                raise CorpusImportError(f"{path}: body {body_id} is also in split {split_of[body_id]!r}")
    known: set[str] = set()
    for path in bodies:
        for line, row in writer.csv_rows(path, ("Body ID", "articleBody")):
            body_id, text = row["Body ID"].strip(), row["articleBody"]
            if not body_id:
                writer.reject(path, line, "empty Body ID")
            elif body_id in known:
                writer.reject(path, line, f"duplicate Body ID {body_id}", body_id)
            elif not text.strip():
                writer.reject(path, line, f"body {body_id} has no text", body_id)
            else:
                known.add(body_id)
                metadata = {"corpus": CORPUS, "body_id": body_id, "file": path.name, "line": line}
                if body_id in split_of:
                    metadata["split"] = split_of[body_id]
                writer.article(
                    article_record(
                        safe_id("fnc1-body", body_id),
                        text,
                        title=f"FNC-1 body {body_id}",
                        licence=LICENCE,
                        provenance=f"FNC-1 {path.name} (FakeNewsChallenge/fnc-1), Body ID {body_id}",
                        metadata=metadata,
                    )
                )
    for path in stances:
        timestamp = file_timestamp(path)
        labelled = "Stance" in _header(path)
        for number, (line, row) in enumerate(writer.csv_rows(path, ("Headline", "Body ID")), start=1):
            _pair(writer, path, line, number, row, known, labelled, timestamp)


def _pair(
    writer: ImportWriter,
    path: Path,
    line: int,
    number: int,
    row: dict[str, str],
    known: set[str],
    labelled: bool,
    timestamp: str,
) -> None:
    headline, body_id = row["Headline"].strip(), row["Body ID"].strip()
    label = row.get("Stance", "").strip() if labelled else ""
    if not headline:
        writer.reject(path, line, "empty Headline", number)
        return
    if body_id not in known:
        writer.reject(path, line, f"Body ID {body_id!r} is not in the bodies file (or was rejected)", number)
        return
    if labelled and label not in LABELS:
        writer.reject(path, line, f"Stance {label!r} is not one of {list(LABELS)}", number)
        return
    article_id = safe_id("fnc1-body", body_id)
    pair_id = safe_id("fnc1", path.stem, number)
    writer.target({"target_id": pair_id, "article_id": article_id, "text": headline})
    if not labelled:
        return
    related, doc_stance = LABELS[label]
    writer.annotation(
        annotation_record(
            pair_id,
            article_id,
            pair_id,
            annotator=ANNOTATOR,
            timestamp=timestamp,
            related=related,
            doc_stance=doc_stance,
            metadata={"corpus": CORPUS, "file": path.name, "line": line, "body_id": body_id, "label": label},
        )
    )
