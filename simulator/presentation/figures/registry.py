"""The figure catalogue: one entry per figure, the one place its name, title and caption live.

Each :class:`Entry` names a figure (its file stem), the module that draws it (whose
``from_data`` builds it from a :class:`~.data.FigureData`), its title and its caption: what the
figure teaches, as the catalogue's data shows it. Everything that lists figures reads them from
:data:`FIGURES`, in this order:

* ``kubesim figures`` (:func:`~simulator.presentation.outputs.write_figures`) draws every entry
  and writes ``index.html`` and the PowerPoint deck (:mod:`simulator.presentation.publish`)
  with their titles and captions;
* ``kubesim compare --out`` and ``kubesim report``
  (:func:`~simulator.presentation.report.render_report`) draw the entries that have a
  ``report_caption``: the figures any comparison can be drawn as. The report shows
  ``report_title`` (default: ``title``) and ``report_caption``, which say what the figure shows
  rather than what the catalogue's data teaches, since a report's comparison can be any.

A figure drawn once per runtime has ``{runtime}`` in its name and titles and lists its runtimes
(:data:`EACH`: every runtime of the data). To add a figure: write its module in this package (the
drawing function and ``from_data``), then add its entry below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module

from matplotlib.figure import Figure

from ._draw import caption_of
from .data import FigureData

__all__ = ["EACH", "Entry", "Drawing", "FIGURES", "SECTIONS", "catalogue", "comparison", "headline", "section_of"]

EACH = "each"
"""``runtimes`` of a figure drawn once for every runtime of the data."""


@dataclass(frozen=True)
class Entry:
    """One figure of the catalogue."""

    name: str  # the file stem (``{runtime}`` replaced for a per-runtime figure)
    module: str  # the module of this package that draws it
    title: str
    caption: str  # what the figure teaches: index.html, the deck's captions and notes
    runtimes: tuple[str, ...] | str = ()  # () once; EACH; or the runtimes to draw
    report_title: str | None = None  # in the report; default: title
    report_caption: str | None = None  # set: drawn for every comparison (compare, report)

    @property
    def build(self) -> Callable[..., Figure]:
        """The function that builds the figure from the data: its module's ``from_data(data)``
        (``from_data(data, runtime)`` for a figure drawn per runtime)."""
        # by name: the package re-exports figure functions named like their module
        return import_module(f"{__package__}.{self.module}").from_data

    def drawings(self, data: FigureData) -> list[Drawing]:
        """The figures of this entry for ``data``: one, or one per runtime."""
        if not self.runtimes:
            return [Drawing(self, None)]
        runtimes = data.runtimes if self.runtimes == EACH else self.runtimes
        return [Drawing(self, rt) for rt in runtimes]


@dataclass(frozen=True)
class Drawing:
    """One figure file of an entry: the entry for one runtime (or for none)."""

    entry: Entry
    runtime: str | None

    def _fill(self, text: str) -> str:
        return text if self.runtime is None else text.format(runtime=self.runtime)

    @property
    def stem(self) -> str:
        return self._fill(self.entry.name)

    @property
    def title(self) -> str:
        return self._fill(self.entry.title)

    @property
    def caption(self) -> str:
        return self._fill(self.entry.caption)

    @property
    def report_title(self) -> str:
        return self._fill(self.entry.report_title or self.entry.title)

    @property
    def report_caption(self) -> str:
        return self._fill(self.entry.report_caption or self.entry.caption)

    def draw(self, data: FigureData) -> Figure:
        if self.runtime is None:
            return self.entry.build(data)
        return self.entry.build(data, self.runtime)

    def page_entry(self, fig: Figure | None = None) -> dict[str, str]:
        """What :func:`~simulator.presentation.publish.write_index` and ``write_pptx`` list:
        the drawn ``fig``'s own title and caption (its takeaway, computed from its data) where
        it has them, else the entry's."""
        caption = (caption_of(fig) if fig is not None else None) or self.caption
        title = (headline(fig) if fig is not None else None) or self.title
        return {"file_stem": self.stem, "title": title, "teaches": caption}


def headline(fig: Figure) -> str | None:
    """The title drawn on ``fig``: its suptitle, a text at the top of the page (a diagram's
    title), or its first axes' title; ``None`` if it has none."""
    texts = [fig.get_suptitle()]
    texts += [t.get_text() for t in fig.texts if t.get_position()[1] >= 0.95]
    if fig.axes:
        texts += [fig.axes[0].get_title(loc="left"), fig.axes[0].get_title()]
    return next((" ".join(t.split()) for t in texts if t and t.strip()), None)


FIGURES: tuple[Entry, ...] = (
    Entry("pod-startup-cdf", "cdf", "How long until a pod runs",
          "Share of pods running within x seconds of creation, per chain: the chain changes the "
          "whole curve, not only the tail.",
          report_caption="Share of pods running within x seconds of creation (image pulls "
          "excluded), per chain."),
    Entry("time-by-operation", "time_by_operation",
          "Where the time goes, by CRI operation",
          "RunPodSandbox and StartContainer dominate; dockershim spends nearly twice as long in "
          "each as containerd.",
          report_caption="Mean time per pod spent in each CRI call the kubelet makes."),
    Entry("time-by-hop", "time_by_hop", "Where the time goes, hop by hop",
          "Mean self time per pod in each process of the chain, coloured by role (the caption "
          "of a drawn figure states where the most time goes and what runc costs, from its data).",
          report_caption="The same time split by the process doing the work."),
    Entry("waterfall-{runtime}", "waterfall",
          "One pod's creation as a waterfall ({runtime})",
          "The CRI calls of one pod to scale, each split by the process that did the work.",
          runtimes=("dockershim",)),
    Entry("sequence-{runtime}", "sequence", "Sequence diagram: one pod on {runtime}",
          "Every call of one pod's creation, processes as lanes, time to scale: count the hops.",
          runtimes=EACH, report_title="{runtime}: one pod, hop by hop",
          report_caption="Every call of one pod's creation, processes as lanes, time to scale."),
    Entry("what-binds", "what_binds",
          "What binds: where a pod's start-up waits",
          "Each chain's pod start-up split by what it waited on. At the default preset's pace nothing "
          "outside the chain binds: PLEG's 1 s relist and the runtime's own work take most of it, and "
          "dockershim's own work is twice containerd's. (At 1.10 density, 105 pods on 1 vCPU, dockerd's "
          "layer-store lock binds dockershim and the kubelet's API client containerd.)",
          report_caption="Share of the mean pod start-up (created -> Running, pulls included) spent "
          "on each cause, per chain: the largest share is what binds."),
    Entry("chains-side-by-side", "chains_side_by_side",
          "The four call chains side by side",
          "The processes and transports RunPodSandbox crosses on each chain, and where CNI "
          "runs."),
    Entry("stream-paths", "stream_paths",
          "kubectl exec, chain by chain: where the bytes go and what they cost",
          "Where an exec session's bytes go on each chain and what each hop pays per MB: Docker's "
          "path copies every byte through dockerd and dockershim too; before 1.11 the apiserver went "
          "straight to the stream server (dashed), which therefore had to listen on the network, as "
          "cri-dockerd's still does by default."),
    Entry("log-paths", "log_paths",
          "Container logs, chain by chain: who writes the file, who rotates it, who reads it",
          "On Docker a line crosses the shim and dockerd's copier and JSON driver into Docker's own "
          "file, which Docker rotates; containerd and CRI-O write the CRI format under /var/log/pods "
          "and the kubelet rotates, so a kubectl logs -f stops at a rotation before 1.29 and a log "
          "agent set up for Docker's path finds nothing."),
    Entry("resources-by-process", "resources", "CPU and memory per process",
          "One shim per container makes the Docker chains' memory grow with pods, even with the "
          "shims' shared pages counted once; CRI-O's conmon is tiny."),
    Entry("latency-vs-load", "latency_vs_load",
          "Pod startup against load, with 95 % confidence bands",
          "With the API client out of the way (1.27+ defaults) on 2 cores, dockershim's "
          "latency grows fastest with load."),
    Entry("failures-by-hop", "failures", "Where pod creation breaks as load grows",
          "On one vCPU, dockershim's CreateContainer calls hit the 2-minute deadline and PLEG "
          "stalls; containerd does not."),
    Entry("validation", "validation", "Predicted against measured",
          "Each published experiment's outcome against the model's prediction, with the tolerance "
          "the source's own precision allows: the cases outside it are findings, not hidden."),
    Entry("sensitivity-tornado", "tornado",
          "Which guesses the answer rests on",
          "Morris μ* of every ASSUMPTION default on p50 pod startup: no single guess dominates. "
          "The largest are the costs of the runtime's list and status calls, which PLEG's relist "
          "(how the kubelet notices a started container) makes every second, and the registry "
          "link; σ as large as μ* marks irregular effects. A small screening (3 trajectories, "
          "20 pods): `kubesim sensitivity` runs more."),
    Entry("log-pipeline", "log_pipeline",
          "Logs cost CPU per line, dockerd most; on one vCPU Docker's writers block or drop, "
          "the kubelet's rotation lags",
          "Twelve chatty containers on one vCPU (chatty-logs): the runtime's CPU grows with the lines "
          "written, dockerd's copier and JSON driver costing most per line and conmon least; the "
          "kubelet decodes Docker's JSON again for every kubectl logs -f (before 1.29 the follower "
          "stops at the first CRI rotation). Once the node is saturated Docker's writers block "
          "(or, non-blocking, drop lines), while containerd and CRI-O keep writing and the "
          "kubelet's 10 s rotation lets files grow far past containerLogMaxSize."),
    Entry("migration-timeline", "migration",
          "Migrating node pools from Docker to containerd",
          "Nodes switch one at a time; Docker-in-Docker runners are left Pending once the last "
          "Docker node goes."),
)
"""The catalogue, in the order of index.html, the deck and the report."""


def catalogue(data: FigureData) -> list[Drawing]:
    """Every figure of the catalogue for ``data``, in order (``kubesim figures``)."""
    return [d for entry in FIGURES for d in entry.drawings(data)]


def comparison(data: FigureData) -> list[Drawing]:
    """The figures any comparison is drawn as (``kubesim compare --out``, ``kubesim report``)."""
    return [d for entry in FIGURES if entry.report_caption for d in entry.drawings(data)]


SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Latency", ("pod-startup-cdf", "latency-vs-load")),
    ("Where the time goes", ("time-by-operation", "time-by-hop", "waterfall-{runtime}", "sequence-{runtime}",
                             "what-binds")),
    ("The call chains", ("chains-side-by-side", "stream-paths", "log-paths")),
    ("Resources", ("resources-by-process", "log-pipeline")),
    ("Failures", ("failures-by-hop",)),
    ("Migration", ("migration-timeline",)),
    ("How far to trust it", ("validation", "sensitivity-tornado")),
)
"""The deck's sections, in order, and the entries (by ``name``) each groups; the deck shows a
section's figures after its section slide, in the catalogue's order."""


def section_of(entry: Entry) -> tuple[int, str]:
    """(position, title) of the section that groups ``entry``; an entry no section lists goes
    to a last section, "More figures"."""
    for k, (title, names) in enumerate(SECTIONS):
        if entry.name in names:
            return k, title
    return len(SECTIONS), "More figures"
