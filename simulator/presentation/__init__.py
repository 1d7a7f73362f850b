"""Presentation layer: one figure style, slide-ready figures, and trace export.

Imports matplotlib, pandas and numpy only, never the model: it draws the DataFrames the model
and the experiments produce (docs/DESIGN.md, "Outputs"). The figures are :mod:`.figures`, one module
per figure; the catalogue (names, titles, captions) is :mod:`.figures.registry`.
"""

from .figures import (
    FAILURE_KINDS,
    SLO_POD_STARTUP_S,
    chain_edges,
    chains_side_by_side,
    default_lanes,
    failure_heatmap,
    failure_table,
    latency_cdf,
    latency_vs_load,
    migration_timeline,
    resources_by_process,
    sequence_diagram,
    sequence_text,
    time_by_hop,
    time_by_operation,
    waterfall,
)
from .style import add_footnote, figure_style, new_figure, save_figure
from .trace import to_chrome_trace, write_chrome_trace

__all__ = [
    "FAILURE_KINDS",
    "SLO_POD_STARTUP_S",
    "add_footnote",
    "chain_edges",
    "chains_side_by_side",
    "default_lanes",
    "failure_heatmap",
    "failure_table",
    "figure_style",
    "latency_cdf",
    "latency_vs_load",
    "migration_timeline",
    "new_figure",
    "resources_by_process",
    "save_figure",
    "sequence_diagram",
    "sequence_text",
    "time_by_hop",
    "time_by_operation",
    "to_chrome_trace",
    "waterfall",
    "write_chrome_trace",
]
