"""Projects: found like git finds its repository, settings checked key by key, `init`, and every
command's defaults taken from the project, never from the shell's folder."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pytest

from stancebank.cli import main
from stancebank.init import guideline_template
from stancebank.project import PROJECT_FILE, ProjectError, find_project, load_project, project_toml
from tests.conftest import LiveStudio
from tests.shipped import DATA, ROOT


@pytest.fixture(autouse=True)
def _no_env_project(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STANCEBANK_PROJECT_DIR", raising=False)


def _project(root: Path, toml: str | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / PROJECT_FILE).write_text(toml if toml is not None else project_toml(name="mine"), "utf-8")
    return root


def test_found_by_walking_up_from_a_subfolder(tmp_path: Path) -> None:
    root = _project(tmp_path / "proj")
    deep = root / "notes" / "2026"
    deep.mkdir(parents=True)
    project = find_project(start=deep)
    assert project.found and project.root == root.resolve() and project.name == "mine"
    assert project.data_dir == root.resolve() / "data"
    assert project.dataset_dir == root.resolve() / "data" / "hf"
    assert project.reports_dir == root.resolve() / "reports"
    assert project.studio_home == root.resolve() / ".studio"
    assert project.studio_title == "mine"  # "" in the toml: the project's name


def test_without_a_toml_the_current_folder_with_defaults(tmp_path: Path) -> None:
    project = find_project(start=tmp_path)
    assert not project.found and project.root == tmp_path.resolve()
    assert project.data_dir == tmp_path.resolve() / "data"


def test_project_dir_and_the_environment_win_over_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here, there = _project(tmp_path / "here"), _project(tmp_path / "there")
    monkeypatch.chdir(here)
    assert find_project().root == here.resolve()
    assert find_project(there).root == there.resolve()
    monkeypatch.setenv("STANCEBANK_PROJECT_DIR", str(there))
    assert find_project().root == there.resolve()


def test_project_dir_must_hold_a_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--project-dir", str(tmp_path / "nowhere"), "validate"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"stancebank: error: {tmp_path / 'nowhere'}: project folder does not exist"
    )
    assert main(["--project-dir", str(tmp_path), "validate"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"stancebank: error: {tmp_path}: no {PROJECT_FILE} here (run 'stancebank init {tmp_path}')"
    )


BAD_TOMLS = [
    ("not toml", "[project\n", "not valid TOML: "),
    ("unknown section", "[projet]\n", "unknown section(s) ['projet']; known: "),
    ("unknown key", '[project]\nnmae = "x"\n', "unknown key(s) ['nmae'] in [project]; known: "),
    ("section not a table", 'paths = "data"\n', "[paths] must be a table"),
    ("string expected", "[project]\nname = 3\n", "[project] name must be a string, got 3"),
    ("list expected", '[project]\nlanguages = "en"\n', "[project] languages must be a list of strings, "
     "got 'en'"),
    ("list of strings", "[project]\nlanguages = [1]\n", "[project] languages must be a list of "
     "strings, got [1]"),
    ("unknown policy", '[export]\npolicy = ["best"]\n', "[export] policy must be a non-empty list of "),
    ("empty policy", "[export]\npolicy = []\n", "[export] policy must be a non-empty list of "),
    ("data outside", '[paths]\ndata = "../elsewhere"\n', "paths.data = '../elsewhere' points outside "
     "the project"),
    ("absolute path", '[paths]\nreports = "/tmp"\n', "paths.reports = '/tmp' points outside the project"),
    ("studio outside", '[studio]\nhome = "../.studio"\n', "studio.home = '../.studio' points outside "
     "the project"),
    ("guideline outside", '[project]\nguideline = "../G.md"\n', "guideline = '../G.md' points outside the "
     "project"),
    ("guideline version", '[project]\nguideline_version = "v2"\n', "[project] guideline_version must look "
     "like 1.0, got 'v2'"),
]  # fmt: skip


@pytest.mark.parametrize(("toml", "message"), [c[1:] for c in BAD_TOMLS], ids=[c[0] for c in BAD_TOMLS])
def test_a_bad_toml_is_refused_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], toml: str, message: str
) -> None:
    root = _project(tmp_path / "p", toml)
    with pytest.raises(ProjectError) as caught:
        load_project(root)
    assert str(caught.value).startswith(f"{root.resolve() / PROJECT_FILE}: {message}")
    assert main(["--project-dir", str(root), "validate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"stancebank: error: {root.resolve() / PROJECT_FILE}: {message}")
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("toml", "heading", "version"),
    [
        ('[project]\nguideline_version = "2.3"\n', "# G (version 1.0)\n", "2.3"),  # the toml wins
        ("[project]\n", "# Our guideline (version 4.12)\n\nrules", "4.12"),  # older toml: the heading
        ("[project]\n", "# Our guideline\n", "0.1"),  # neither: the starter guideline's
    ],
)
def test_the_guideline_version_is_the_projects(tmp_path: Path, toml: str, heading: str, version: str) -> None:
    root = _project(tmp_path / "p", toml)
    (root / "data").mkdir()
    (root / "data" / "GUIDELINES.md").write_text(heading, encoding="utf-8")
    assert load_project(root).guideline_version == version


def test_the_shipped_corpus_is_a_project() -> None:
    project = find_project(start=DATA)
    assert project.guideline_version == "1.0"  # what its annotations record
    assert project.root == ROOT and project.name == "StanceBank"
    assert project.guideline == DATA / "GUIDELINES.md" and project.guideline.exists()
    assert project.studio_title == "StanceBank"  # the title `studio push` always used for it


def test_every_default_comes_from_the_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(
        tmp_path / "proj", project_toml(name="mine").replace('reports = "reports"', 'reports = "out"')
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    captured: dict[str, object] = {}

    def spy(args: object) -> int:
        captured.update(vars(args))
        return 0

    cases = {
        ("validate",): {"paths": [root / "data"]},
        ("agreement",): {"data": [root / "data"], "out": root / "out" / "agreement"},
        ("adjudicate",): {"data": root / "data"},
        ("export",): {"data": [root / "data"], "out": root / "data" / "hf"},
        ("train",): {"dataset": root / "data" / "hf", "out": root / "out"},
        ("predict", "--model", "m.skops"): {"data": [root / "data"]},  # out: by engine, see below
        ("studio", "push"): {"data": [root / "data"], "title": "mine"},
        ("studio", "pull"): {"data": root / "data", "title": "mine"},
        ("import", "text", "x.txt"): {"out": root / "data"},
    }
    from stancebank import cli

    original = cli.build_parser

    def build() -> argparse.ArgumentParser:  # every subcommand runs ``spy`` once its defaults are set
        parser = original()
        _replace_funcs(parser, spy)
        return parser

    monkeypatch.setattr(cli, "build_parser", build)
    for argv, expected in cases.items():
        captured.clear()
        assert main(["--project-dir", str(root), *argv]) == 0
        for key, value in expected.items():
            if value is not None:
                assert captured[key] == value, (argv, key)
        assert captured["project"].root == root.resolve()  # type: ignore[attr-defined]


def test_predict_writes_into_the_project_a_file_or_a_folder_by_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``predict`` without ``--out``: <project>/predictions.jsonl, or with --engine spark (a folder of
    shards) <project>/predictions/ (a file name for a folder made a later local predict fail)."""
    import train.spark_predict

    root = _project(tmp_path / "proj")
    shutil.copytree(DATA, root / "data", ignore=shutil.ignore_patterns("hf"))
    models = tmp_path / "models"
    fit = ["train", "--task", "certainty", "--model", "tfidf-lr", "--dataset", str(DATA / "hf")]
    assert main([*fit, "--out", str(models)]) == 0
    model = next(models.rglob("model-tfidf-lr.skops"))
    monkeypatch.chdir(tmp_path)
    assert main(["--project-dir", str(root), "predict", "--model", str(model), "--include-annotated"]) == 0
    assert (root / "predictions.jsonl").is_file() and not (tmp_path / "predictions.jsonl").exists()
    given: list[Path] = []

    def spark(model: Path, data: list[Path], out: Path, **options: object) -> int:
        given.append(out)
        return 0

    monkeypatch.setattr(train.spark_predict, "predict_spark", spark)
    assert main(["--project-dir", str(root), "predict", "--model", str(model), "--engine", "spark"]) == 0
    assert given == [root.resolve() / "predictions"]


def _replace_funcs(parser: argparse.ArgumentParser, func: object) -> None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                if child.get_default("func") is not None:
                    child.set_defaults(func=func)
                _replace_funcs(child, func)


def test_init_writes_a_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bib = tmp_path / "cite.bib"
    bib.write_text("@misc{mine, title={Mine}}\n", encoding="utf-8")
    root = tmp_path / "new"
    argv = [
        "init",
        str(root),
        "--name",
        "Harbour news",
        "--license",
        "cc-by-4.0",
        "--citation-file",
        str(bib),
    ]
    assert main([*argv, "--description", "Local news.", "--language", "en", "--language", "de"]) == 0
    project = load_project(root)
    assert (project.name, project.license, project.description) == (
        "Harbour news",
        "cc-by-4.0",
        "Local news.",
    )
    assert project.citation == "@misc{mine, title={Mine}}\n" and project.languages == ("en", "de")
    assert project.guideline_version == "0.1"
    assert 'guideline_version = "0.1"' in project.config_file.read_text()
    assert (root / "data" / "articles.jsonl").read_text() == ""
    assert (root / "data" / "targets.jsonl").read_text() == ""
    assert (root / "data" / "annotations").is_dir()
    guideline = (root / "data" / "GUIDELINES.md").read_text(encoding="utf-8")
    assert guideline == guideline_template("Harbour news") and guideline.startswith("# Harbour news")
    shipped = (DATA / "GUIDELINES.md").read_text(encoding="utf-8")
    for seed_text in ("seed", "Ankara", "Japan", "diplomatic source"):
        assert seed_text in shipped and seed_text not in guideline, seed_text
    assert ".studio/" in (root / ".gitignore").read_text().split()
    out = capsys.readouterr().out
    assert "written stancebank.toml" in out and f"project 'Harbour news' ready in {root}" in out
    assert "written data/annotations/\n" in out  # where annotations go, listed with the rest
    # validate right after init: no articles yet, and the one line says how to add them
    assert main(["validate", str(root)]) == 2
    assert "articles.jsonl: file is empty: no articles yet (add them with `stancebank import text" in (
        capsys.readouterr().err
    )


def test_a_project_folder_given_as_data_means_its_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`stancebank validate PROJECT` from elsewhere validates the project's data folder (its
    `paths.data`), not the folder itself; a folder with neither data nor a project is still refused."""
    root = _project(tmp_path / "mine", project_toml(name="mine").replace('data = "data"', 'data = "corpus"'))
    shutil.copytree(DATA, root / "corpus", ignore=shutil.ignore_patterns("hf"))
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "mine"]) == 0
    assert "valid: " in capsys.readouterr().out
    (tmp_path / "empty").mkdir()
    assert main(["validate", "empty"]) == 2
    assert "empty: no data files" in capsys.readouterr().err


def test_a_project_folder_given_as_data_is_that_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`stancebank export PROJECT` run from another project (or from no project) exports PROJECT with its
    own settings into its own dataset folder, as --project-dir would; data of two projects at once, or a
    --project-dir naming another one, is refused before anything is written."""
    mine = _project(tmp_path / "mine", project_toml(name="Harbour Watch", license="cc-by-sa-4.0"))
    shutil.copytree(DATA, mine / "data", ignore=shutil.ignore_patterns("hf"))
    here = _project(tmp_path / "here", project_toml(name="Somewhere else", license="mit"))
    monkeypatch.chdir(here)
    assert main(["export", str(mine)]) == 0
    card = (mine / "data" / "hf" / "README.md").read_text(encoding="utf-8")
    assert "# Harbour Watch" in card and "license: cc-by-sa-4.0" in card
    assert not (here / "data").exists()
    capsys.readouterr()
    assert main(["export", str(mine), str(DATA.parent)]) == 2
    assert "the data comes from 2 projects" in capsys.readouterr().err
    assert main(["--project-dir", str(here), "validate", str(mine)]) == 2
    assert "is a project of its own, but --project-dir names" in capsys.readouterr().err


def test_a_project_without_annotations_exports_nothing_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Right after `import text` the articles have no annotation: the dataset (one row per annotated
    task) would be empty, so export stops in one line and writes nothing, in either format."""
    root = _project(tmp_path / "p")
    (root / "story.txt").write_text("The port will reopen in May, officials said.\n", encoding="utf-8")
    monkeypatch.chdir(root)
    assert main(["import", "text", "story.txt", "--target", "The port reopens."]) == 0
    capsys.readouterr()
    assert main(["export"]) == 2
    assert "nothing to export: no annotations yet" in capsys.readouterr().err
    assert not (root / "data" / "hf").exists()
    assert main(["export", "--format", "brat", "--out", str(tmp_path / "brat")]) == 2
    assert "nothing to export: no annotations yet" in capsys.readouterr().err
    assert not (tmp_path / "brat").exists()


def test_init_refuses_an_existing_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _project(tmp_path / "p")
    (root / "data").mkdir()
    (root / "data" / "articles.jsonl").write_text("mine\n")
    before = (root / PROJECT_FILE).read_bytes()
    assert main(["init", str(root), "--name", "other"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"stancebank: error: {root.resolve() / PROJECT_FILE} already exists: this folder is a project already"
    )
    assert (root / PROJECT_FILE).read_bytes() == before
    assert (root / "data" / "articles.jsonl").read_text() == "mine\n"
    assert not (root / "data" / "GUIDELINES.md").exists()


def test_init_keeps_an_existing_gitignore_and_data(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*.pyc\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "GUIDELINES.md").write_text("ours\n")
    assert main(["init", str(tmp_path)]) == 0
    assert (tmp_path / ".gitignore").read_text().startswith("*.pyc\n")
    assert ".studio/" in (tmp_path / ".gitignore").read_text()
    assert (tmp_path / "data" / "GUIDELINES.md").read_text() == "ours\n"
    assert load_project(tmp_path).name == tmp_path.name


def test_summary_does_not_count_gold_as_an_annotator(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.shipped import shipped_files

    assert main(["summary", *map(str, shipped_files())]) == 0
    out = capsys.readouterr().out
    people = {json.loads(line)["annotator"] for p in shipped_files()[2:] for line in p.open()} - {"gold"}
    assert f"│ annotators                │     {len(people)} │" in out
    assert "gold annotations" in out


@pytest.mark.integration
def test_studio_status_from_a_subfolder_sees_the_server(
    live_studio: LiveStudio,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = _project(tmp_path / "proj")
    (root / ".studio").mkdir()
    shutil.copy(live_studio.home / "server.json", root / ".studio" / "server.json")
    monkeypatch.delenv("STANCEBANK_STUDIO_HOME")
    deep = root / "notes" / "deeper"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert main(["studio", "status"]) == 0
    assert capsys.readouterr().out.startswith(f"Label Studio is up at {live_studio.url}")
    monkeypatch.chdir(tmp_path)  # outside the project: its server is not this folder's
    assert main(["studio", "status"]) == 1
    assert capsys.readouterr().out.strip() == "Label Studio is not running"
    assert main(["--project-dir", str(root), "studio", "status"]) == 0
