"""Progress bars (issue 12): drawn on stderr only when it is a terminal and ``--quiet`` was not
given; results never depend on them."""

import io
import json
import sys

import pytest

from simulator.cli import main
from simulator.cli.progress import Progress, bar_enabled

SMALL = ["--pods", "4", "--set", "simulation.steadyStateSeconds=1", "--runtimes", "containerd",
         "--replications", "2"]
BAR_CHARACTERS = ("█", "|", "%", "run/s", "it/s")


class _Terminal(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_no_bar_when_stderr_is_not_a_terminal(capsys):
    assert not bar_enabled()  # pytest captures stderr: not a terminal
    assert main(["compare", "--json", *SMALL]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert not any(c in captured.err for c in BAR_CHARACTERS)
    json.loads(captured.out)


def test_bar_on_a_terminal_and_quiet_silences_it(monkeypatch, capsys):
    term = _Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    assert main(["compare", "--json", *SMALL]) == 0
    drawn = term.getvalue()
    assert "kubesim compare" in drawn and "/2 [" in drawn and "run" in drawn  # 2 runs
    with_bar = json.loads(capsys.readouterr().out)

    quiet = _Terminal()
    monkeypatch.setattr(sys, "stderr", quiet)
    assert main(["compare", "--json", "--quiet", *SMALL]) == 0
    assert quiet.getvalue() == ""
    assert json.loads(capsys.readouterr().out) == with_bar  # the bar changes nothing


def test_progress_counts_units_and_messages(monkeypatch):
    term = _Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    with Progress("kubesim test", unit="step") as bar:
        bar.set_total(3)
        for _ in range(3):
            bar.advance(note="a figure")
        bar.message("one line above the bar")
    text = term.getvalue()
    assert "3/3" in text and "a figure" in text and "one line above the bar" in text
    quiet = _Terminal()
    monkeypatch.setattr(sys, "stderr", quiet)
    with Progress("kubesim test", 2, quiet=True) as bar:
        bar.advance()
        bar.message("not shown")
    assert quiet.getvalue() == ""


@pytest.mark.parametrize("command", ["compare", "run", "trace", "failures", "report", "sweep",
                                     "sensitivity", "figures", "validate", "calibrate", "explain",
                                     "presets"])
def test_every_command_takes_quiet(command):
    from simulator.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    assert any("--quiet" in a.option_strings for a in sub._actions)
