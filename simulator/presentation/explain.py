"""``kubesim explain RUNTIME``: a chain narrated hop by hop, with the source of every fact.

Reads the chain file (the same data the interpreter runs), so what it says is what the model
does.
"""

from __future__ import annotations

import textwrap

from ..chains import (
    CONDITIONS,
    OPERATIONS,
    OPTIONAL_OPERATIONS,
    TRANSPORTS,
    Chain,
    Step,
    load_chain,
)
from ..chains.counting import hop_count
from ..config import Scenario
from ..config.versions import CHANGES, profile
from ..model.dist import dist_median_s
from ..model.node.reboot import reboot_notes
from ..model.node.stop_faults import stop_path_notes
from .explain_streams import streaming_section

__all__ = ["explain_chain", "hop_counts"]

_CREATION_OPS = ["run_podsandbox", "podsandbox_status", "image_status", "pull_image",
                 "create_container", "start_container"]
_STATUS_OPS = ["list_podsandbox", "list_containers", "podsandbox_status", "container_status"]
_TERMINATION_OPS = ["stop_container", "stop_podsandbox", "remove_container", "remove_podsandbox"]


def _median_ms(step: Step, scenario: Scenario) -> str:
    if step.kind == "cniAdd":
        return f"{dist_median_s(scenario.cni.add) * 1000:.0f} ms (scenario cni.add)"
    if step.kind == "cniLoopback":
        return f"{dist_median_s(scenario.cni.loopbackAdd) * 1000:.0f} ms (scenario cni.loopbackAdd)"
    if step.service is None:
        return ""
    ms = dist_median_s(step.service) * 1000
    extra = f" + {step.perItem.ms:g} ms per {step.perItem.items[:-1]}" if step.perItem else ""
    return f"{ms:.3g} ms{extra}"


def hop_counts(chain: Chain) -> dict[str, dict[str, int]]:
    """Per operation: steps, OS-process crossings and OS processes (:func:`hop_count`, the
    count the chain diagram shows too)."""
    out = {}
    for op in [o for o in OPERATIONS if o in chain.operations]:
        c = hop_count(chain, op)
        out[op] = {"steps": c.steps, "crossings": c.crossings, "processes": c.processes}
    return out


def explain_chain(runtime: str, scenario: Scenario | None = None, width: int = 100) -> str:
    chain = load_chain(runtime)
    scenario = scenario or _default_scenario()
    w = textwrap.TextWrapper(width=width)
    lines = [f"{chain.name}: {chain.title}", "=" * min(width, len(chain.name) + len(chain.title) + 2)]
    lines += w.wrap(chain.description.strip())
    if chain.era:
        lines.append(f"Era modelled: {chain.era}")
    if chain.kubernetes is not None:
        lines.append(f"Stands for Kubernetes {chain.kubernetes.text()}"
                     + (f" (a {chain.family} chain: '{chain.family}' on another release runs that "
                        "release's chain)" if chain.family else ""))
    if chain.base:
        lines.append(f"Built on the '{chain.base}' chain; only the processes listed below differ.")
    lines += ["", "Processes (group = whose CPU and memory it counts as):"]
    for name, p in chain.processes.items():
        mem = []
        if p.rssMB.base:
            mem.append(f"{p.rssMB.base:g} MB")
        if p.rssMB.perPod:
            mem.append(f"+{p.rssMB.perPod:g} MB/pod")
        if p.rssMB.perContainer:
            mem.append(f"+{p.rssMB.perContainer:g} MB/container")
        if p.rssMB.perInstance:
            mem.append(f"{p.rssMB.perInstance:g} MB per instance")
        if p.rssMB.shared:
            mem.append(f"+{p.rssMB.shared:g} MB of binary pages shared by every instance")
        inst = {"daemon": "daemon", "spawned": "one per spawn", "transient": "short-lived"}[p.instances]
        lines.append(f"  - {name} [{p.group}, {inst}{', in ' + p.osProcess if p.osProcess else ''}]"
                     f" {p.description}")
        lines.append(f"      memory: {', '.join(mem) or 'not resident'}. Source: {p.source}")
    lines += ["", f"Image pulls: {chain.imagePull.maxConcurrentDownloads} concurrent layer downloads "
              f"{'per daemon' if chain.imagePull.downloadScope == 'node' else 'per pull'}. "
              f"Source: {chain.imagePull.source}",
              f"CNI is called by: {chain.cniCaller}. Shims: one {chain.shimProcess} per {chain.shimPer}.",
              f"A RunPodSandbox retry while the first still runs: {chain.sandboxNameReuse} "
              f"(source: {chain.sandboxNameReuseSource})"]
    lines += _network_config(chain, w)
    counts = hop_counts(chain)
    for title, ops in (("Pod creation, in the order SyncPod calls it", _CREATION_OPS),
                       ("Status and list calls (PLEG relist and GetPodStatus)", _STATUS_OPS[:2] + _STATUS_OPS[3:]),
                       ("Termination and garbage collection", _TERMINATION_OPS),
                       ("The kubelet's background calls (runtime status, node status, stats, image list)",
                        [op for op in OPTIONAL_OPERATIONS if op in chain.operations])):
        lines += ["", title + ":"]
        for op in ops:
            o = chain.operations[op]
            c = counts[op]
            lines.append("")
            lines.append(f"{OPERATIONS[op]} ({op}): {c['steps']} steps, "
                         f"{c['crossings']} crossings between {c['processes']} OS processes")
            if o.description:
                lines += ["  " + x for x in w.wrap(o.description)]
            lines += _narrate(o.steps, "kubelet", "  ", scenario)
    lines += streaming_section(chain, scenario, _narrate, width)  # exec/attach/port-forward/logs -f
    if chain.notes:
        lines += ["", "What to notice:"] + [f"  * {n}" for n in chain.notes]
    bullets = textwrap.TextWrapper(width=width, initial_indent="  * ", subsequent_indent="    ")
    for title, notes in (("When the stop path fails (faults: stopError)", stop_path_notes(chain)),
                         ("After a node reboot (faults: nodeReboot)", reboot_notes(chain))):
        lines += ["", title + ":"]
        for n in notes:
            lines += bullets.wrap(n)
    from .logs import chain_logs_section  # the chain's logs: section, with sources

    lines += chain_logs_section(chain, width)
    lines += ["", version_table(scenario.kubernetesVersion)]
    lines += ["", "Citation keys: facts §N = docs/facts.md section N; cal. row N = docs/calibration.md "
              "row N; realdata 1.21 = the EKS kubelet /metrics scrape in examples/metrics/; [I] = an inference from cited "
              "totals; ASSUMPTION = no published value, reasoning given."]
    return "\n".join(lines)


def _network_config(chain: Chain, w: textwrap.TextWrapper) -> list[str]:
    """Where this chain reads its CNI settings: what a migration to or from it must carry."""
    cni = chain.cni_settings()
    lines = ["", "Network configuration (what a migration must carry over):",
             f"  - network config: {cni.confDir.setting}, default {cni.confDir.default}",
             f"  - plugin binaries: {cni.binDir.setting}, default {cni.binDir.default}"]
    lines += w.wrap(f"Without a network config there, the runtime's Status reports NetworkReady=false "
                    f"('{cni.notReadyMessage}'): the kubelet reports the node NotReady, the scheduler "
                    "keeps pods away (not-ready taint) and pods already bound stay ContainerCreating "
                    "('network is not ready'). With the config but without the plugins, the node is "
                    "Ready and every CNI ADD fails ('failed to find plugin ... in path'): pods stay "
                    "ContainerCreating. Source: " + cni.source)
    docker = ("This node runs dockerd: pods that mount /var/run/docker.sock (Docker-in-Docker) work "
              "here." if chain.has_docker_socket else
              "No dockerd here: pods that mount /var/run/docker.sock stay ContainerCreating (hostPath "
              "type Socket) unless a Docker DaemonSet or a docker:dind sidecar provides a daemon "
              "(cluster.migration.dind).")
    return lines + w.wrap(docker)


def version_table(version: str, width: int = 100) -> str:
    """The release-dependent kubelet behaviour of ``version``, with the change's source
    (config/versions.py; docs/model/version-profiles.md explains each row)."""
    p = profile(version)
    lines = [f"Kubelet behaviour of Kubernetes {version} (set kubernetesVersion to see another release):"]
    for change in CHANGES:
        lines.append(f"  - {change.what}: {p[change.key]}")
        lines.append(textwrap.fill(f"source: {change.source}", width=width, initial_indent="      ",
                                   subsequent_indent="      "))
    return "\n".join(lines)


def _narrate(steps: list[Step], caller: str, indent: str, scenario: Scenario, prefix: str = "") -> list[str]:
    out = []
    for i, s in enumerate(steps, 1):
        num = f"{prefix}{i}"
        arrow = s.process if s.process == caller else f"{caller} -> {s.process}"
        how = "" if s.transport == "in-process" and s.process == caller else f" via {TRANSPORTS[s.transport]}"
        extras = []
        if s.when:
            extras.append(f"only when {CONDITIONS[s.when]}")
        if s.lock:
            extras.append(f"holds the {s.lock.name} lock (per {s.lock.scope})")
        if s.spawns:
            extras.append(f"leaves a {s.process} process running")
        t = _median_ms(s, scenario)
        out.append(f"{indent}{num}. {arrow}{how}: {s.name}" + (f"  [median {t}]" if t else ""))
        for e in extras:
            out.append(f"{indent}   ({e})")
        out.append(f"{indent}   source: {s.source}")
        if s.calls:
            out += _narrate(s.calls, s.process, indent + "   ", scenario, num + ".")
    return out


def _default_scenario() -> Scenario:
    from ..config import load_scenario

    return load_scenario("default")
