"""What the notebooks in notebooks/ need from their front-end: figures at the kubesim style's
16:9 size, and whether sliders can be drawn.

* :func:`setup_notebook` makes every figure a notebook displays come out at the size it was drawn
  (``FIGSIZE_IN`` at the figure's dpi: 1920 × 1080 px for the style's figures). IPython's inline
  backend otherwise crops each figure to its contents (``bbox_inches="tight"``), which gives every
  figure its own odd size instead of the 16:9 the style draws.
* :func:`widgets_available` says whether ipywidgets can be used: ipywidgets imports and the code
  runs in a Jupyter kernel (which carries the comms widgets talk through). It asks ipywidgets and
  IPython themselves rather than environment variables that one front-end sets and another does
  not, so it gives the same answer in JupyterLab, Notebook, VS Code and Colab; run as a plain
  script (``python notebooks/02-latency-under-load.py``) it is False and the notebooks draw the
  same result as a static figure.

IPython and ipywidgets are optional (the ``notebooks`` extra): both are imported only when called.
"""

from __future__ import annotations

import importlib
from typing import Any, cast

from .style import FIGSIZE_IN

__all__ = ["setup_notebook", "shell", "widgets_available"]


def shell() -> Any | None:
    """The running IPython shell, or None (plain Python, or IPython not installed)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


STATIC = False
"""Set by a builder that executes a notebook into a static document (``make slides``): no kernel
will be there to drive a widget, so notebooks draw their static figures instead."""


def widgets_available(ip: Any | None = None) -> bool:
    """True when ipywidgets imports and ``ip`` (default: the running shell) is a kernel's shell,
    unless the notebook is being executed into a static document (``STATIC``).

    A Jupyter kernel's shell has a ``kernel`` (ipykernel's, or Colab's) through which widget comms
    go; a terminal IPython or a plain interpreter has none, and there a widget could only print
    its repr.
    """
    if STATIC:
        return False
    try:
        importlib.import_module("ipywidgets")
    except ImportError:
        return False
    ip = shell() if ip is None else ip
    return ip is not None and getattr(ip, "kernel", None) is not None


def setup_notebook(ip: Any | None = None) -> None:
    """Display every figure at the size it was drawn (16:9 for the kubesim style).

    Replaces the inline backend's crop to the figure's contents (``bbox_inches="tight"``) by the
    full figure, and makes the style's 16:9 size the default for figures made with pyplot. Call
    it after ``%matplotlib inline`` (which would put the crop back). Outside IPython it only sets
    the default size.
    """
    import matplotlib as mpl

    mpl.rcParams["figure.figsize"] = FIGSIZE_IN
    ip = shell() if ip is None else ip
    if ip is None:
        return
    from IPython.core.pylabtools import select_figure_formats

    formats = {"png"}
    try:  # the inline backend's own settings, so that a later `%matplotlib inline` keeps this
        from matplotlib_inline.config import InlineBackend

        cfg = cast(Any, InlineBackend.instance(parent=ip))
        cfg.print_figure_kwargs = {**cfg.print_figure_kwargs, "bbox_inches": None}
        formats = set(cfg.figure_formats) or formats
    except ImportError:  # matplotlib-inline comes with ipykernel; IPython alone works without it
        pass
    select_figure_formats(ip, formats, bbox_inches=None)
