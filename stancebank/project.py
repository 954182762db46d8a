"""The project a command works on, found like git finds its repository.

A project is a folder holding ``stancebank.toml``. Every command finds it once — from ``--project-dir``,
``$STANCEBANK_PROJECT_DIR``, or by walking up from the current directory — and resolves its data,
dataset, reports and Label Studio paths against the project root, never against the shell's folder.
Without a ``stancebank.toml`` the current folder is an unnamed project with the default layout (so
``stancebank validate some/file.jsonl`` works anywhere); ``stancebank init`` writes one.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schemas.errors import StanceBankError, UnreadableInputError

#: The version of the guideline ``stancebank init`` writes (its heading says so).
STARTER_GUIDELINE_VERSION = "0.1"
_VERSION = re.compile(r"\d+\.\d+\Z")
#: "(version 1.2)" in a guideline's first lines, for a stancebank.toml without ``guideline_version``.
_VERSION_IN_GUIDELINE = re.compile(r"\(version (\d+\.\d+)\)")

PROJECT_FILE = "stancebank.toml"
POLICIES = ("gold", "majority", "latest", "earliest")
DEFAULT_POLICY = ("gold", "majority", "latest")


class ProjectError(StanceBankError, ValueError):
    """A ``stancebank.toml`` that cannot be used: unknown keys, wrong types, bad values."""


@dataclass(frozen=True)
class Project:
    """A project's settings with every path made absolute against ``root``."""

    root: Path
    found: bool  # False: no stancebank.toml, the current folder with defaults
    name: str
    description: str = ""
    license: str = "unknown"  # not a label: a Hub / SPDX licence id, e.g. cc-by-4.0
    license_details: str = ""
    citation: str = ""  # BibTeX, copied into the card as is
    homepage: str = ""
    languages: tuple[str, ...] = ()
    guideline: Path | None = None
    #: The guideline's version: recorded in every annotation pulled or adjudicated, named by the card.
    guideline_version: str = STARTER_GUIDELINE_VERSION
    card_template: Path | None = None  # extra Markdown sections for the card (worked example, limitations)
    data_dir: Path = field(default_factory=Path)
    dataset_dir: Path = field(default_factory=Path)
    reports_dir: Path = field(default_factory=Path)
    export_policy: tuple[str, ...] = DEFAULT_POLICY
    studio_title: str = "stancebank"
    studio_home: Path = field(default_factory=Path)

    @property
    def config_file(self) -> Path:
        return self.root / PROJECT_FILE


# section -> key -> (type, default); the layout of stancebank.toml written as data
_SCHEMA: dict[str, dict[str, tuple[type, Any]]] = {
    "project": {
        "name": (str, ""),
        "description": (str, ""),
        "license": (str, "unknown"),  # not a label
        "license_details": (str, ""),
        "citation": (str, ""),
        "homepage": (str, ""),
        "languages": (list, []),
        "guideline": (str, "data/GUIDELINES.md"),
        "guideline_version": (str, ""),
        "card_template": (str, ""),
    },
    "paths": {"data": (str, "data"), "dataset": (str, "data/hf"), "reports": (str, "reports")},
    "export": {"policy": (list, list(DEFAULT_POLICY))},
    "studio": {"project_title": (str, ""), "home": (str, ".studio")},
}


def _checked(raw: dict[str, Any], source: Path) -> dict[str, dict[str, Any]]:
    where = str(source)
    unknown = sorted(set(raw) - set(_SCHEMA))
    if unknown:
        raise ProjectError(f"{where}: unknown section(s) {unknown}; known: {sorted(_SCHEMA)}")
    out: dict[str, dict[str, Any]] = {}
    for section, keys in _SCHEMA.items():
        given = raw.get(section, {})
        if not isinstance(given, dict):
            raise ProjectError(f"{where}: [{section}] must be a table")
        extra = sorted(set(given) - set(keys))
        if extra:
            raise ProjectError(f"{where}: unknown key(s) {extra} in [{section}]; known: {sorted(keys)}")
        out[section] = {}
        for key, (kind, default) in keys.items():
            value = given.get(key, default)
            if not isinstance(value, kind) or (
                isinstance(value, list) and not all(isinstance(v, str) for v in value)
            ):
                what = "a list of strings" if kind is list else "a string"
                raise ProjectError(f"{where}: [{section}] {key} must be {what}, got {value!r}")
            out[section][key] = value
    bad = [p for p in out["export"]["policy"] if p not in POLICIES]
    if bad or not out["export"]["policy"]:
        raise ProjectError(
            f"{where}: [export] policy must be a non-empty list of {list(POLICIES)}, got "
            f"{out['export']['policy']!r}"
        )
    return out


def _inside(root: Path, value: str, key: str, source: Path) -> Path:
    path = (root / value).resolve()
    if not path.is_relative_to(root):
        raise ProjectError(f"{source}: {key} = {value!r} points outside the project folder {root}")
    return path


def load_project(root: Path, *, found: bool = True) -> Project:
    """The project rooted at ``root`` (its ``stancebank.toml`` when ``found``, else the defaults)."""
    root = root.resolve()
    source = root / PROJECT_FILE
    raw: dict[str, Any] = {}
    if found:
        try:
            raw = tomllib.loads(source.read_text(encoding="utf-8"))
        except OSError as exc:
            raise UnreadableInputError(str(source), f"cannot read: {exc.strerror}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ProjectError(f"{source}: not valid TOML: {exc}") from None
    c = _checked(raw, source)
    p, paths = c["project"], c["paths"]
    name = p["name"] or root.name
    guideline = _inside(root, p["guideline"], "guideline", source) if p["guideline"] else None
    return Project(
        root=root,
        found=found,
        name=name,
        description=p["description"],
        license=p["license"],
        license_details=p["license_details"],
        citation=p["citation"],
        homepage=p["homepage"],
        languages=tuple(p["languages"]),
        guideline=guideline,
        guideline_version=_guideline_version(p["guideline_version"], guideline, source),
        card_template=(
            _inside(root, p["card_template"], "card_template", source) if p["card_template"] else None
        ),
        data_dir=_inside(root, paths["data"], "paths.data", source),
        dataset_dir=_inside(root, paths["dataset"], "paths.dataset", source),
        reports_dir=_inside(root, paths["reports"], "paths.reports", source),
        export_policy=tuple(c["export"]["policy"]),
        studio_title=c["studio"]["project_title"] or name,
        studio_home=_inside(root, c["studio"]["home"], "studio.home", source),
    )


def _guideline_version(given: str, guideline: Path | None, source: Path) -> str:
    """``guideline_version`` as given (MAJOR.MINOR), else the "(version X.Y)" of the guideline's heading,
    else the starter guideline's version."""
    if given:
        if not _VERSION.match(given):
            raise ProjectError(f"{source}: [project] guideline_version must look like 1.0, got {given!r}")
        return given
    try:
        head = guideline.read_text(encoding="utf-8")[:2000] if guideline and guideline.is_file() else ""
    except (OSError, UnicodeDecodeError):
        head = ""
    found = _VERSION_IN_GUIDELINE.search(head)
    return found.group(1) if found else STARTER_GUIDELINE_VERSION


def find_project(project_dir: Path | None = None, *, start: Path | None = None) -> Project:
    """The project of a command: ``project_dir`` (or ``$STANCEBANK_PROJECT_DIR``) when given, else the
    nearest folder at or above ``start`` (the current folder) holding ``stancebank.toml``, else
    ``start`` itself with the defaults."""
    explicit = project_dir or (
        Path(os.environ["STANCEBANK_PROJECT_DIR"]) if os.environ.get("STANCEBANK_PROJECT_DIR") else None
    )
    if explicit is not None:
        if not explicit.is_dir():
            raise UnreadableInputError(str(explicit), "project folder does not exist")
        if not (explicit / PROJECT_FILE).is_file():
            raise ProjectError(f"{explicit}: no {PROJECT_FILE} here (run 'stancebank init {explicit}')")
        return load_project(explicit)
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / PROJECT_FILE).is_file():
            return load_project(folder)
    return load_project(here, found=False)


def _toml_string(value: str) -> str:
    if "\n" in value:
        return '"""\n' + value.replace("\\", "\\\\").replace('"""', '\\"\\"\\"') + '"""'
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def project_toml(
    *,
    name: str,
    description: str = "",
    license: str = "unknown",  # not a label
    citation: str = "",
    homepage: str = "",
    languages: tuple[str, ...] = ("en",),
) -> str:
    """The text of a new ``stancebank.toml``, every setting written out with a comment."""
    langs = ", ".join(_toml_string(lang) for lang in languages)
    return f"""# StanceBank project settings. Every path is relative to this file's folder.
[project]
name = {_toml_string(name)}
description = {_toml_string(description)}
# the dataset's licence (a Hugging Face Hub / SPDX id such as cc-by-4.0), and any details for the card
license = {_toml_string(license)}
license_details = ""
# BibTeX for the dataset card's "Citation" section
citation = {_toml_string(citation)}
homepage = {_toml_string(homepage)}
languages = [{langs}]
# the annotation guideline: copied into the exported dataset and linked from its card
guideline = "data/GUIDELINES.md"
# its version (MAJOR.MINOR): every annotation pulled from Label Studio or adjudicated records it; raise it
# whenever a rule of the guideline changes
guideline_version = "{STARTER_GUIDELINE_VERSION}"
# optional Markdown appended to the card (worked examples, limitations of this corpus)
card_template = ""

[paths]
data = "data"
dataset = "data/hf"
reports = "reports"

[export]
# which annotation becomes a task's one row in the claims/sources configs: the first that applies
policy = ["gold", "majority", "latest"]

[studio]
# the Label Studio project's title ("" = the project name) and the server's private folder
project_title = ""
home = ".studio"
"""


class ProjectDefault:
    """A command-line default that is a setting of the project (``data_dir``, ``studio_title``…),
    optionally with a sub-path; ``main`` replaces it with the value once the project is found. Its
    text is what ``--help`` shows as the default."""

    def __init__(self, attr: str, sub: str = "", shown: str = "") -> None:
        self.attr, self.sub = attr, sub
        self.shown = shown or (f"<project {attr}>/{sub}" if sub else f"<project {attr}>")

    def value(self, project: Project) -> Any:
        base = getattr(project, self.attr)
        return base / self.sub if self.sub else base

    def __repr__(self) -> str:
        return self.shown

    __str__ = __repr__


DATA = ProjectDefault("data_dir", shown="the project's data folder")
DATASET = ProjectDefault("dataset_dir", shown="the project's dataset folder")
REPORTS = ProjectDefault("reports_dir", shown="the project's reports folder")
AGREEMENT_REPORT = ProjectDefault("reports_dir", "agreement", shown="the project's reports folder/agreement")
STUDIO_TITLE = ProjectDefault("studio_title", shown="the project's [studio] project_title")


def resolve_defaults(args: Any, project: Project) -> None:
    """Replace every ``ProjectDefault`` left in ``args`` (alone or in a list) by the project's value."""
    for key, value in vars(args).items():
        if isinstance(value, ProjectDefault):
            setattr(args, key, value.value(project))
        elif isinstance(value, list) and any(isinstance(v, ProjectDefault) for v in value):
            setattr(args, key, [v.value(project) if isinstance(v, ProjectDefault) else v for v in value])


def project_of(args: Any) -> Project:
    """The project of a parsed command line: the one ``main`` found (``args.project``), else found now
    from ``args.project_dir`` / the environment / the current folder."""
    found = getattr(args, "project", None)
    if isinstance(found, Project):
        return found
    return find_project(getattr(args, "project_dir", None))
