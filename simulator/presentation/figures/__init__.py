"""The figures of kubesim's catalogue, one module per figure, named for the figure.

* :mod:`.cdf`: how long until a pod runs, the pod-startup CDF per runtime;
* :mod:`.time_by_operation`: where the time goes, by CRI operation;
* :mod:`.time_by_hop`: where the time goes, hop by hop (self time per process);
* :mod:`.waterfall`: one pod's creation as a waterfall of its CRI calls;
* :mod:`.sequence`: one pod's calls as a sequence diagram (and as text);
* :mod:`.chains_side_by_side`: the processes one RunPodSandbox crosses, chain by chain;
* :mod:`.stream_paths`: the ``kubectl exec`` path, chain by chain: hops, CPU per MB, set-up;
* :mod:`.resources`: CPU and memory per process at steady state;
* :mod:`.latency_vs_load`: pod startup p50 and p99 against load, with confidence bands;
* :mod:`.failures`: where pod creation breaks as load grows (heatmap and table);
* :mod:`.tornado`: which ASSUMPTION defaults an output rests on (Morris μ*);
* :mod:`.migration`: a runtime migration, node by node.

Each module's docstring says what its figure teaches and what data it draws. Each figure
function takes tidy DataFrames (the model's and the experiments' outputs, docs/DESIGN.md "Outputs")
or, for the chain diagram, the chains, and returns a 1920 × 1080 px
:class:`matplotlib.figure.Figure` in the one kubesim style (:mod:`simulator.presentation.style`);
it never runs the model or touches pyplot's global state, so it works headless
(``MPLBACKEND=Agg``), in notebooks and in worker processes alike. Each module's ``from_data``
builds the catalogue's figure from a :class:`~.data.FigureData` (running the experiment the
figure needs, if any).

:mod:`.registry` is the catalogue: every figure's file name, module, title and caption, read by
``kubesim figures``, ``index.html``, the deck, ``kubesim compare`` and the report. :mod:`._draw`
holds the helpers the figures share; the other modules starting with an underscore are parts of
a figure too large for one module (the sequence diagram's layout and drawing, the chain graph,
the failure ramp, the migration run).

This package re-exports the figure functions, some named like their module
(``from simulator.presentation.figures import time_by_hop`` is the function); import a module by
its full name (``from simulator.presentation.figures.time_by_hop import ...``).
"""

from ._draw import SLO_POD_STARTUP_S
from .cdf import latency_cdf
from .chains_side_by_side import chain_edges, chains_side_by_side
from .failures import FAILURE_KINDS, failure_heatmap, failure_table
from .latency_vs_load import latency_vs_load
from .migration import migration_timeline
from .resources import resources_by_process
from .sequence import default_lanes, sequence_diagram, sequence_text
from .time_by_hop import time_by_hop
from .time_by_operation import time_by_operation
from .waterfall import waterfall

__all__ = [
    "FAILURE_KINDS",
    "SLO_POD_STARTUP_S",
    "chain_edges",
    "chains_side_by_side",
    "default_lanes",
    "failure_heatmap",
    "failure_table",
    "latency_cdf",
    "latency_vs_load",
    "migration_timeline",
    "resources_by_process",
    "sequence_diagram",
    "sequence_text",
    "time_by_hop",
    "time_by_operation",
    "waterfall",
]
