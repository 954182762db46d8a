"""``stancebank init [DIR]``: a new project folder with its settings, data layout and starter guideline."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from schemas.errors import StanceBankError, UnreadableInputError
from stancebank.files import write_atomic
from stancebank.project import PROJECT_FILE, project_toml

GITIGNORE = """# StanceBank: Label Studio state and secrets are never committed
.studio/
*.sqlite3
.env
label_studio_token*
"""


class ProjectExistsError(StanceBankError, FileExistsError):
    """``init`` on a folder that already holds a project."""


def guideline_template(name: str) -> str:
    """The starter guideline shipped with the package, titled with the project's name."""
    text = resources.files("stancebank").joinpath("templates/GUIDELINES.md").read_text(encoding="utf-8")
    return text.replace("{name}", name)


def init_project(
    root: Path,
    *,
    name: str = "",
    description: str = "",
    license: str = "unknown",  # not a label
    citation: str = "",
    languages: tuple[str, ...] = ("en",),
) -> list[Path]:
    """Write ``stancebank.toml``, ``data/`` (empty articles and targets, ``annotations/``, a starter
    guideline) and ``.gitignore`` into ``root``; return the files (and the folder) written. Refuses a
    folder that already holds a ``stancebank.toml``; never replaces a data file or guideline that is
    already there."""
    root = root.resolve()
    if root.exists() and not root.is_dir():
        raise UnreadableInputError(str(root), "not a folder")
    if (root / PROJECT_FILE).exists():
        raise ProjectExistsError(f"{root / PROJECT_FILE} already exists: this folder is a project already")
    name = name or root.name
    data = root / "data"
    files = {
        data / "articles.jsonl": "",
        data / "targets.jsonl": "",
        data / "GUIDELINES.md": guideline_template(name),
    }
    written: list[Path] = []
    if not (data / "annotations").is_dir():
        (data / "annotations").mkdir(parents=True)
        written.append(data / "annotations")
    for path, text in files.items():
        if not path.exists():
            write_atomic(path, text)
            written.append(path)
    gitignore = root / ".gitignore"
    if not gitignore.exists():
        write_atomic(gitignore, GITIGNORE)
        written.append(gitignore)
    elif ".studio/" not in gitignore.read_text(encoding="utf-8").split():
        write_atomic(gitignore, gitignore.read_text(encoding="utf-8").rstrip("\n") + "\n\n" + GITIGNORE)
        written.append(gitignore)
    # the settings last: a folder is a project only once everything else is in place
    toml = project_toml(
        name=name, description=description, license=license, citation=citation, languages=languages
    )
    write_atomic(root / PROJECT_FILE, toml)
    written.append(root / PROJECT_FILE)
    return written
