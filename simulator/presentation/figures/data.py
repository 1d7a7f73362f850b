"""What the figures of the catalogue are drawn from: :class:`FigureData`.

A figure module's ``from_data(data)`` (``from_data(data, runtime)`` for a figure drawn per
runtime) builds its figure from a :class:`FigureData`: a comparison of runtimes (its pods, spans
and resources, and its footnote), the theme, the preset it ran and the runtimes to draw one
figure each for. A figure that needs more than the comparison (a load curve, a failure ramp, a
migration) runs that experiment itself through :meth:`FigureData.scenario` and
:meth:`FigureData.simulate`, so that only the figures drawn pay for it.

Also here: which pod a one-pod figure draws (:func:`pick_pod`), its spans (:func:`pod_spans`),
the lane order of a chain (:func:`lanes_for_runtime`) and a comparison's footnote
(:func:`footnote_for`); :mod:`simulator.presentation.outputs` re-exports them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

import pandas as pd

from ...config import ConfigError

if TYPE_CHECKING:
    from ...config import Scenario
    from ...experiments.runner import Comparison

__all__ = ["FigureData", "footnote_for", "lanes_for_runtime", "pick_pod", "pod_spans"]


def footnote_for(comp: Comparison) -> str:
    return (f"kubesim · scenario '{comp.scenario.name}' · seed {comp.seed} · "
            f"{comp.replications} replication(s) · {comp.scenario.workload.pods} pods · "
            f"{comp.scenario.node.cpuCores:g} cores")


def lanes_for_runtime(runtime: str) -> list[str]:
    from ...chains import load_chain

    chain = load_chain(runtime)
    order = ["kubelet"]
    for op in ("run_podsandbox", "podsandbox_status", "create_container", "start_container",
               "container_status"):
        for p in chain.hop_processes(op):
            if p not in order:
                order.append(p)
    # CNI and forks last, so the daemon -> shim -> runc staircase reads left to right
    tail = [p for p in order if p in ("cni", "nsenter", "pinns")]
    return [p for p in order if p not in tail] + tail


def pick_pod(comp: Comparison, runtime: str, pod: Optional[str]) -> str:
    pods = comp.pods
    mine = pods[(pods.runtime == runtime) & (pods.replication == 0)]
    if pod:
        if pod not in set(mine.pod):
            raise ConfigError(f"--pod {pod!r}: no such pod in this run (pods are named pod-00000 ...)")
        return pod
    ok = mine[mine.outcome == "running"]
    if ok.empty:
        raise ConfigError(f"no pod reached Running on {runtime}; nothing to trace")
    # The chain itself shows best on the simplest pod: no image pull, no init container, the
    # fewest containers; the first such pod created.
    spec = {t.name: t.spec for t in comp.scenario.workload.templates}
    ok = ok.assign(
        _init=[len(spec[t].initContainers) for t in ok.template],
        _n=[len(spec[t].containers) for t in ok.template],
        _pull=ok.image_pull_seconds > 0,
    )
    return str(ok.sort_values(["_pull", "_init", "_n", "created"]).pod.iloc[0])


def pod_spans(comp: Comparison, runtime: str, pod: str, sources=("sync", "puller")) -> pd.DataFrame:
    """One pod's spans: by default its SyncPod and pulls (PLEG's status calls left out)."""
    s = comp.spans
    return s[(s.runtime == runtime) & (s.replication == 0) & (s.pod == pod) & s.source.isin(sources)]


@dataclass
class FigureData:
    """A comparison and what else the figures need to be drawn from it.

    ``runtimes`` are the runtimes a per-runtime figure is drawn for (and the chains the chain
    diagram shows); by default the comparison's chains, without ``unscheduled``. ``preset`` is
    the preset the comparison ran, for figures that run their own experiment on it.
    """

    comp: Comparison
    theme: str = "light"
    preset: str = "default"
    runtimes: list[str] = field(default_factory=list)
    overrides: tuple[str, ...] = ()  # --set on the preset: its figures run the preset with them
    note: str = field(init=False)  # the footnote of every figure drawn from the comparison
    _pods: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    _memo: dict[Any, Any] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.runtimes:
            self.runtimes = [rt for rt in self.comp.summary_runtimes if rt != "unscheduled"]
        self.note = footnote_for(self.comp)
        if self.overrides:  # kubesim figures --set: the preset was changed
            self.note += " · " + ", ".join(self.overrides)

    @property
    def seed(self) -> int:
        return self.comp.seed

    @property
    def pods(self) -> pd.DataFrame:
        return self.comp.pods

    @property
    def spans(self) -> pd.DataFrame:
        return self.comp.spans

    @property
    def resources(self) -> pd.DataFrame:
        return self.comp.resources

    def pod(self, runtime: str) -> str:
        """The pod a one-pod figure draws for ``runtime`` (:func:`pick_pod`; raises
        :class:`~simulator.config.ConfigError` when no pod ran on it)."""
        if runtime not in self._pods:
            self._pods[runtime] = pick_pod(self.comp, runtime, None)
        return self._pods[runtime]

    def has_pod(self, runtime: str) -> bool:
        """Whether any pod ran on ``runtime``, so that a one-pod figure can be drawn."""
        try:
            self.pod(runtime)
        except Exception:  # noqa: BLE001 - no pod ran on this chain: nothing to draw
            return False
        return True

    def pod_spans(self, runtime: str) -> pd.DataFrame:
        """The spans of :meth:`pod`'s SyncPod and image pulls."""
        return pod_spans(self.comp, runtime, self.pod(runtime))

    def lanes(self, runtime: str) -> list[str]:
        return lanes_for_runtime(runtime)

    def memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        """``compute()``, run once per :class:`FigureData` and ``key``: the experiment a figure
        runs (a load curve, a failure ramp...) is reused when the same data is drawn again, in
        the other theme for instance."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def chains_with(self, part: str) -> list:
        """The comparison's chains as its scenario's release runs them, those that model
        ``part`` (``"streaming"``, ``"logs"``): the chain-data figures draw these."""
        from ...chains import resolve_chain
        from ...schema import parse_kubernetes_version

        version = parse_kubernetes_version(self.comp.scenario.kubernetesVersion)
        chains = [resolve_chain(rt, version)[0] for rt in self.runtimes]
        return [c for c in chains if getattr(c, part) is not None]

    def scenario(self, overrides: Sequence[str] = (), name: str | None = None) -> Scenario:
        """The preset (or the preset ``name``) with dotted ``overrides``; the preset's own (not
        another preset ``name``) with the figures' ``--set`` (:attr:`overrides`) first."""
        from ...config import load_scenario

        overrides = [*(self.overrides if name is None else ()), *overrides]
        if overrides:
            return load_scenario(name or self.preset, overrides)
        return load_scenario(name or self.preset)

    def validation(self) -> pd.DataFrame:
        """``kubesim validate``'s table for the catalogue: the usable single-node cases, one
        replication each with the comparison's seed (``kubesim validate`` runs them all)."""
        from ...experiments.validate import load_cases, run_cases

        cases = [c.model_copy(update={"replications": 1}) for c in load_cases()
                 if c.usable and not c.slow and not self.scenario(name=c.setup.preset or "default").cluster]
        return self.memo("validation", lambda: run_cases(cases, seed=self.seed))

    def simulate(self, scenario: Scenario, runtime: str) -> Any:
        """One run of ``scenario`` on ``runtime`` (``"pools"``: the cluster's own node pools)
        with the comparison's seed: its ``pods`` and ``events``."""
        from ...model.simulation import simulate

        return self.memo(("simulate", scenario.model_dump_json(), runtime),
                         lambda: simulate(scenario, runtime, self.seed))
