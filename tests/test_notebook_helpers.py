"""simulator/presentation/notebook.py: the notebooks' figures come out at the size they were drawn
(16:9), and sliders are offered when ipywidgets imports inside a kernel, whatever the front-end."""

from __future__ import annotations

import base64
import struct
import sys
from types import SimpleNamespace

import matplotlib as mpl
import pytest

from simulator.presentation.notebook import setup_notebook, widgets_available
from simulator.presentation.style import FIGSIZE_IN, figure_style, new_figure

pytest.importorskip("ipywidgets")


def test_no_shell_means_no_widgets():
    # pytest runs in a plain interpreter: no IPython shell, so no kernel to carry widget comms
    assert widgets_available() is False


def test_a_shell_without_a_kernel_means_no_widgets():
    assert widgets_available(SimpleNamespace(kernel=None)) is False  # terminal IPython
    assert widgets_available(SimpleNamespace()) is False


def test_a_kernel_means_widgets_whatever_the_environment(monkeypatch):
    for var in ("JPY_SESSION_NAME", "VSCODE_PID", "COLAB_RELEASE_TAG", "KUBESIM_WIDGETS"):
        monkeypatch.delenv(var, raising=False)
    fake = SimpleNamespace(kernel=object())  # ipykernel's, VS Code's or Colab's: any kernel
    assert widgets_available(fake) is True
    monkeypatch.setattr("IPython.get_ipython", lambda: fake)
    assert widgets_available() is True


def test_no_ipywidgets_means_no_widgets(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import fails
    assert widgets_available(SimpleNamespace(kernel=object())) is False


def _png_size(data: str | bytes) -> tuple[int, int]:
    raw = base64.b64decode(data) if isinstance(data, str) else data
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", raw[16:24])


def test_setup_notebook_displays_figures_at_their_drawn_size():
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.core.pylabtools import select_figure_formats

    ip = InteractiveShell.instance()
    saved = mpl.rcParams.copy()
    try:
        mpl.rcParams["figure.figsize"] = (6.4, 4.8)
        select_figure_formats(ip, {"png"})  # as `%matplotlib inline` leaves it: cropped (tight)
        with figure_style("light"):
            fig, ax = new_figure()
            ax.plot([0, 1], [0, 1])
            ax.set_title("a title")
        png = ip.display_formatter.formatters["image/png"]
        assert _png_size(png(fig)) != (1920, 1080), "the check below would prove nothing"
        setup_notebook(ip)
        assert _png_size(png(fig)) == (1920, 1080)
        assert tuple(mpl.rcParams["figure.figsize"]) == FIGSIZE_IN  # pyplot figures too
    finally:
        InteractiveShell.clear_instance()
        mpl.rcParams.update(saved)
