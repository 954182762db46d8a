"""Every subcommand's --help: positional arguments documented, defaults shown, no literal '%%'."""

from __future__ import annotations

import argparse

import pytest

from stancebank.cli import build_parser, main


def _commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found += _commands(child, (*prefix, name))
    return found


COMMANDS = _commands(build_parser())


def _parser_of(argv: tuple[str, ...]) -> argparse.ArgumentParser:
    parser = build_parser()
    for name in argv:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    return parser


def test_every_subcommand_is_found() -> None:
    assert {("validate",), ("init",), ("import", "text"), ("import", "fnc1"), ("studio", "push")} <= set(
        COMMANDS
    )
    assert len(COMMANDS) > 20


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: " ".join(a) or "stancebank")
def test_help_documents_positionals_and_defaults(
    argv: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stop:
        main([*argv, "--help"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    assert "%%" not in text
    assert text.startswith(f"usage: stancebank {' '.join(argv)}".rstrip())
    parser = _parser_of(argv)
    for action in parser._actions:
        if action.help == argparse.SUPPRESS or isinstance(
            action, argparse._HelpAction | argparse._VersionAction
        ):
            continue
        assert action.help, f"{' '.join(argv)}: {action.dest} has no help"
        shows_default = action.default not in (None, False) and (
            action.option_strings or action.nargs in ("?", "*")
        )
        if shows_default:
            line = parser._get_formatter()._get_help_string(action)  # what --help prints for it
            assert "default" in line, (argv, action.dest, line)


def test_a_default_from_the_project_reads_as_such(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "data folders or .jsonl files (default: the project's data folder)" in text
    assert "--seed SEED random seed of the split (default: 13)" in text
