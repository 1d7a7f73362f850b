"""The README stays true: its Python example runs and the commands it shows exist."""

import re
from pathlib import Path

from simulator.cli import build_parser

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_python_examples_run(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the examples write their outputs (out/...) here
    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    assert blocks
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {})
    assert "dockershim" in capsys.readouterr().out


def test_cli_commands_in_readme_parse(tmp_path, monkeypatch):
    parser = build_parser()
    commands = re.findall(r"^kubesim (.+?)(?:\s{2,}#.*)?$", README, flags=re.M)
    assert len(commands) >= 8
    for cmd in commands:
        argv = cmd.split()

        parser.parse_args(argv)  # raises on an unknown command or flag


def test_quick_start_is_make_demo_and_make_test():
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    assert "make demo" in quick and "make test" in quick


def test_readme_make_commands_are_makefile_targets_and_say_how_to_run_kubesim():
    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, flags=re.MULTILINE))
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    shown = re.findall(r"^make (\w[\w-]*)", quick, flags=re.MULTILINE)
    assert shown == ["demo", "lab", "slides", "test"], shown
    mentioned = set(re.findall(r"`make ([a-z][\w-]*)", README))
    assert mentioned <= targets, f"README mentions make targets the Makefile lacks: {mentioned - targets}"
    # kubesim is not on PATH unless .venv is activated: the README says both ways
    assert "`.venv/bin/kubesim compare`" in quick and "`source .venv/bin/activate`" in quick
