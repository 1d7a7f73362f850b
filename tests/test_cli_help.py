"""Every option of every command says what it does (``--help``), and every command has a line in
``kubesim --help`` (issue 12)."""

import argparse

from simulator.cli import build_parser


def _parsers(parser: argparse.ArgumentParser, name: str = "kubesim"):
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                yield from _parsers(sub, f"{name} {sub_name}")


def test_every_option_has_help():
    missing = []
    for name, parser in _parsers(build_parser()):
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            if not (action.help or "").strip() or action.help == argparse.SUPPRESS:
                missing.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
    assert not missing, "options without help: " + ", ".join(missing)


def test_every_command_has_help_and_the_walk_sees_them_all():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    lines = {c.dest: c.help for c in sub._choices_actions}
    assert set(lines) == set(sub.choices) and len(lines) >= 12
    assert all((h or "").strip() for h in lines.values()), lines
    assert len(list(_parsers(parser))) == 1 + len(sub.choices)


def test_the_help_check_can_fail():
    parser = argparse.ArgumentParser(prog="x")
    parser.add_argument("--bare")
    assert [a.dest for _, p in _parsers(parser) for a in p._actions
            if not isinstance(a, argparse._HelpAction) and not a.help] == ["bare"]
