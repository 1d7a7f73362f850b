"""Progress bars for the commands that can run longer than a few seconds (tqdm, on stderr).

A bar is drawn only when stderr is a terminal and ``--quiet`` was not given: piped or
redirected output, and logs, carry no bar characters. The layers below the CLI never import
this module: :func:`~simulator.experiments.runner.compare`, the failure ramp, the validation
cases, the calibration fit and :func:`~simulator.presentation.outputs.write_figures` take an
optional plain callback, called once a unit of work (a run, a load step, a case, a round, a
figure) is done, which the CLI points at :meth:`Progress.advance`. Results never depend on it.

While a bar is open a background thread redraws it every second, so that the elapsed time keeps
moving through one long run (a 100-node cluster takes most of a minute per chain).
"""

from __future__ import annotations

import argparse
import sys
import threading
from types import TracebackType
from typing import Optional

__all__ = ["Progress", "add_quiet_option", "bar_enabled"]

REDRAW_SECONDS = 1.0
"""How often an open bar is redrawn between units of work. ASSUMPTION: once a second keeps the
elapsed time current at a negligible cost (one short write to the terminal)."""


def bar_enabled(quiet: bool = False) -> bool:
    """Whether a bar is drawn: stderr is a terminal and ``--quiet`` was not given."""
    if quiet:
        return False
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):  # replaced by an object without isatty, or closed
        return False


def add_quiet_option(sp: argparse.ArgumentParser) -> None:
    """``--quiet``: no progress bar and no progress lines on stderr (errors are still printed)."""
    sp.add_argument("--quiet", "-q", action="store_true",
                    help="no progress bar or progress messages on stderr (a bar is only drawn when "
                         "stderr is a terminal); errors are still printed")


class Progress:
    """One progress bar on stderr, or nothing when :func:`bar_enabled` is false.

    Use as a context manager; ``advance`` is the callback to hand to the layers below
    (``progress=bar.advance``). ``total`` may be given later with :meth:`set_total` when it is
    only known after a first step (the figures: the catalogue is known once the comparison ran).
    ``message`` writes a line above the bar (or to stderr without a bar) unless quiet.
    """

    def __init__(self, desc: str, total: Optional[int] = None, unit: str = "run", quiet: bool = False):
        from tqdm import tqdm

        self.quiet = quiet
        self.enabled = bar_enabled(quiet)
        self._bar = tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, disable=not self.enabled,
                         leave=False, dynamic_ncols=True, mininterval=0.2)
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        if self.enabled:
            self._thread = threading.Thread(target=self._redraw, name="kubesim-progress", daemon=True)
            self._thread.start()

    def _redraw(self) -> None:
        while not self._stop.wait(REDRAW_SECONDS):
            try:
                self._bar.refresh()
            except Exception:  # noqa: BLE001 - a bar that cannot be drawn is no reason to fail
                return

    def set_total(self, total: int) -> None:
        self._bar.total = total
        self._bar.refresh()

    def advance(self, *_done: object, note: Optional[str] = None) -> None:
        """One unit of work done (any positional arguments, what was done, are ignored); ``note``
        names what comes next."""
        if note is not None:
            self._bar.set_postfix_str(note, refresh=False)
        self._bar.update(1)

    def note(self, text: str) -> None:
        """Name what is running now, after the counts."""
        self._bar.set_postfix_str(text)

    def message(self, text: str) -> None:
        """A line on stderr (above the bar when there is one), unless quiet."""
        if self.quiet:
            return
        if self.enabled:
            self._bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr, flush=True)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._bar.close()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, exc_type: Optional[type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        self.close()
