"""The README stays true: every `$ stancebank …` line of its ```console blocks is run in a copy of the
shipped project and its output compared with the lines below it (`…` stands for any text)."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

from stancebank.cli import main
from tests.shipped import DATA, ROOT, copy_shipped

Example = tuple[str, list[str]]


def console_examples(markdown: str) -> list[Example]:
    """(command, expected output lines) for every `$ stancebank` line of the ```console blocks."""
    examples: list[Example] = []
    for block in re.findall(r"^```console\n(.*?)^```", markdown, flags=re.MULTILINE | re.DOTALL):
        for line in block.splitlines():
            if line.startswith("$ "):
                examples.append((line[2:], []))
            elif examples:
                examples[-1][1].append(line)
    return examples


def matches(expected: list[str], got: list[str]) -> bool:
    """Line by line; `…` in an expected line matches any text, a line that is only `…` any lines."""
    pattern = "".join(
        r"(?:.*\n)*" if line.strip() == "…" else ".*".join(map(re.escape, line.split("…"))) + r"\n"
        for line in expected
    )
    return re.fullmatch(pattern, "".join(f"{line}\n" for line in got)) is not None


EXAMPLES = console_examples((ROOT / "README.md").read_text(encoding="utf-8"))


def test_the_readme_has_console_examples() -> None:
    assert len(EXAMPLES) >= 2 and all(cmd.startswith("stancebank ") for cmd, _ in EXAMPLES)


def test_matching_can_fail() -> None:
    assert matches(["valid: 3 file(s), …"], ["valid: 3 file(s), 45 articles"])
    assert not matches(["valid: 5 file(s), …"], ["valid: 6 file(s), 45 articles"])
    assert matches(["a", "…"], ["a", "b", "c"]) and not matches(["a"], ["a", "b"])


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("readme")
    shutil.copyfile(ROOT / "stancebank.toml", root / "stancebank.toml")
    copy_shipped(root / "data", DATA)
    return root


@pytest.mark.parametrize(("command", "expected"), EXAMPLES, ids=[c for c, _ in EXAMPLES])
def test_console_example(
    project: Path,
    command: str,
    expected: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(project)
    monkeypatch.setenv("COLUMNS", "100")
    main(shlex.split(command)[1:])
    got = capsys.readouterr().out.splitlines()
    assert matches(expected, got), "\n".join(got)
