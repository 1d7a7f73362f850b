"""Presentation layer: one figure style, slide-ready figures, and trace export.

Imports matplotlib, pandas and numpy only, never the model: it draws the DataFrames the model
and the experiments produce (DESIGN.md, "Outputs").
"""

from .figures import (
    default_lanes,
    latency_cdf,
    sequence_diagram,
    sequence_text,
    time_by_hop,
    time_by_operation,
)
from .style import add_footnote, figure_style, new_figure, save_figure
from .trace import to_chrome_trace, write_chrome_trace

__all__ = [
    "add_footnote",
    "default_lanes",
    "figure_style",
    "latency_cdf",
    "new_figure",
    "save_figure",
    "sequence_diagram",
    "sequence_text",
    "time_by_hop",
    "time_by_operation",
    "to_chrome_trace",
    "write_chrome_trace",
]
