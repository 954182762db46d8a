"""Adding imported articles to a data folder that already holds some (a project's ``data/``).

The import is staged in a folder of its own first; then its articles and targets are appended to the
folder's ``articles.jsonl`` and ``targets.jsonl`` (each rewritten atomically, existing lines unchanged),
after checking that no id collides and that the merged data validates. Annotations are never touched.
The import's ``rejects.jsonl`` and ``import.json`` go to ``imports/<format>-<time>/`` of the folder.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

from stancebank.files import read_text, write_atomic
from stancebank.importers.base import MANIFEST, REJECTS, CorpusImportError

FILES = ("articles.jsonl", "targets.jsonl")
_KEY = {"articles.jsonl": "article_id", "targets.jsonl": "target_id"}


def holds_data(folder: Path) -> bool:
    """True when ``folder`` exists and is not empty (an import must merge into it)."""
    return folder.is_dir() and any(folder.iterdir())


def _ids(path: Path, key: str) -> set[str]:
    if not path.exists():
        return set()
    ids = set()
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        if line.strip():
            try:
                ids.add(str(json.loads(line)[key]))
            except (json.JSONDecodeError, KeyError, TypeError):
                raise CorpusImportError(
                    f"{path}:{number}: not a valid record; run 'stancebank validate' first"
                ) from None
    return ids


def merge_into(staged: Path, out: Path, fmt: str) -> Path:
    """Append the staged import's articles and targets to ``out``; return the folder of its manifest."""
    from stancebank.validate import validate_corpus

    for name in FILES:
        clash = sorted(_ids(staged / name, _KEY[name]) & _ids(out / name, _KEY[name]))
        if clash:
            shown = ", ".join(clash[:5]) + (f" and {len(clash) - 5} more" if len(clash) > 5 else "")
            raise CorpusImportError(
                f"{out / name} already has {_KEY[name]}(s) {shown}: rename those inputs or leave them "
                "out; nothing written"
            )
    merged = {name: _joined(out / name, staged / name) for name in FILES}
    check = staged / "merged"
    check.mkdir()
    for name, text in merged.items():
        (check / name).write_text(text, encoding="utf-8", newline="")
    from stancebank.corpus import read_corpus

    annotations = sorted((out / "annotations").glob("**/*.jsonl"))
    failures = validate_corpus(read_corpus([check / n for n in FILES] + annotations))
    if failures:
        first = failures[0]
        raise CorpusImportError(
            f"{out}: the data with the imported articles fails {len(failures)} rule(s), nothing written; "
            f"first: {first.rule} on {first.article_id} {first.column}={first.value}"
        )
    for name in FILES:  # articles first: a crash in between leaves articles without targets, still valid
        write_atomic(out / name, merged[name])
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    record = out / "imports" / f"{fmt}-{stamp}"
    record.mkdir(parents=True, exist_ok=True)
    for name in (REJECTS, MANIFEST):
        shutil.copyfile(staged / name, record / name)
    return record


def _joined(existing: Path, new: Path) -> str:
    old = read_text(existing) if existing.exists() else ""
    if old and not old.endswith("\n"):
        old += "\n"
    return old + (read_text(new) if new.exists() else "")
