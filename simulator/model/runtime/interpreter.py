"""The call-chain interpreter: one walker for every chain.

``Interpreter.operation`` runs one CRI operation for one pod (or for the node, for PLEG's
list calls) by walking the chain's steps depth-first. For each step it

1. skips it unless its ``when`` condition holds (``podNetwork``, ``newShim``...); conditions
   of sibling steps are evaluated together when their caller starts its calls, so alternatives
   (``newShim`` / ``reuseShim``) exclude each other even when the first one spawns a shim;
2. waits for the step's lock (a per-container lock in dockerd, the per-pod network lock in
   dockershim, containerd's bbolt writer...), counting the wait as ``queued``; a free lock is
   taken without an event (locks.py);
3. draws the step's service time (plus its per-item cost for list calls), runs the CPU share of
   it on the node's processor-shared cores (slowed down when the cores are busy; the slow-down is
   also ``queued``) and waits out the rest (I/O, kernel, sleeps): the CPU job's completion fires
   when the rest is over, one SimPy event for both (fluid.py ``run(then=...)``);
4. does what the step's ``kind`` says (a CNI plugin exec, an image pull) and spawns a
   long-lived process if it ``spawns`` one (a shim, a conmon);
5. makes its nested calls, while still holding its lock (a call returns before its caller does);
6. may fail with one of its failure modes, which stops the operation and names the hop.

Every visit becomes one span (DESIGN.md ``spans``). Random draws come from the generator of
the pod the work is done for, so two runs that differ only in, say, the number of cores draw
the same service times for the same pod (common random numbers, for sharp comparisons).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Optional

from ...chains import ALL_OPERATIONS, Chain, Step
from ..attribution import charge_step
from ..dist import Sampler, compile_dist
from .context import CallContext, HopFailure

if TYPE_CHECKING:
    from ..interfaces import RuntimeHost

__all__ = ["HopFailure", "CallContext", "Interpreter"]


@dataclass
class _Compiled:
    step: Step
    sampler: Optional[Sampler]
    calls: list["_Compiled"]
    hop: str


class Interpreter:
    def __init__(self, node: "RuntimeHost", chain: Chain):
        self.node = node
        self.chain = chain
        self.env = node.env
        # the CRI operations and, for a chain with a ``streaming:`` section, the stream sessions'
        self.ops: dict[str, list[_Compiled]] = {
            name: [self._compile(s) for s in steps] for name, steps in chain.all_operations().items()
        }
        self.shim_per_pod = chain.shimPer == "pod"
        cni = node.scenario.cni
        self._cni_kinds = {"cniAdd": compile_dist(cni.add), "cniLoopback": compile_dist(cni.loopbackAdd),
                           "cniDel": compile_dist(cni.delete)}
        self._cni_cpu_share = cni.cpuShare
        self._conditions: dict[str, Callable[[CallContext], bool]] = {
            "podNetwork": lambda c: c.pod is not None and not c.pod.spec.hostNetwork,
            "hostNetwork": lambda c: c.pod is not None and c.pod.spec.hostNetwork,
            "newShim": lambda c: not (self.shim_per_pod and c.pod is not None and c.pod.has_shim),
            "reuseShim": lambda c: self.shim_per_pod and c.pod is not None and c.pod.has_shim,
            "sandboxImageMissing": lambda c: not node.images.present(node.scenario.sandboxImage),
            "unfiltered": lambda c: c.unfiltered,
        }

    def _compile(self, step: Step) -> _Compiled:
        sampler = compile_dist(step.service) if step.service is not None else None
        return _Compiled(step, sampler, [self._compile(s) for s in step.calls],
                         f"{step.process}: {step.name}")

    # ------------------------------------------------------------------ public
    def operation(self, op: str, ctx: CallContext, caller: str = "kubelet"):
        """Run one CRI operation; returns None or raises HopFailure (after recording).
        ``caller``: who issues it (the kubelet; a stream session's connect, the kubelet's proxy
        or, when the kubelet redirects, the apiserver)."""
        env, rec = self.env, self.node.recorder
        start = env.now
        span_id = rec.next_id()
        outcome = "ok"
        ctx.operation = op
        rec.begin(span_id, -1, 0, ctx, ALL_OPERATIONS[op], caller, caller, "in-process", start,
                  operation_level=True)
        self.node.inflight += 1
        try:
            for s in self._active(self.ops[op], ctx):
                yield from self._step(s, ctx, caller, span_id, 1)
        except HopFailure as f:
            outcome = f.reason
            raise
        finally:
            self.node.inflight -= 1
            rec.span(span_id, -1, 0, ctx, ALL_OPERATIONS[op], caller, caller,
                     "in-process", start, env.now, 0.0, outcome, operation_level=True)

    # ------------------------------------------------------------------ internals
    def _layers(self, ctx: CallContext) -> int:
        """Layers of the image the step works on (the sandbox image for the pod sandbox)."""
        images = self.node.scenario.images
        image = ctx.image if ctx.image is not None else self.node.scenario.sandboxImage
        spec = images.get(image)
        return spec.layers if spec is not None else 1

    def _active(self, steps: list[_Compiled], ctx: CallContext) -> list[_Compiled]:
        cond = self._conditions
        return [c for c in steps if c.step.when is None or cond[c.step.when](ctx)]

    def _step(self, c: _Compiled, ctx: CallContext, caller: str, parent: int, depth: int):
        step = c.step
        env, node = self.env, self.node
        start = env.now
        span_id = node.recorder.next_id()
        node.recorder.begin(span_id, parent, depth, ctx, step.name, step.process, caller, step.transport, start)
        queued = 0.0
        lock_req = None
        lock_wait = 0.0
        outcome = "ok"
        faults = node.faults
        try:
            extra = faults.before_step(step, ctx, c.hop) if faults is not None else 0.0
            epoch = faults.epoch[step.process] if faults is not None else 0
            if step.lock is not None:
                lock = node.lock(step.process, step.lock, ctx)
                lock_req = lock.request()
                yield lock_req  # a free lock comes back processed: no event
                queued += env.now - start
                lock_wait = env.now - start
            kind = step.kind
            rng = ctx.rng
            if kind in self._cni_kinds:
                if kind != "cniDel":  # the plugin binary is looked up before the exec
                    node.cni_find_plugin("loopback" if kind == "cniLoopback" else node.scenario.cni.plugin,
                                         c.hop)
                service = self._cni_kinds[kind](rng)
                share = self._cni_cpu_share
            else:
                service = c.sampler(rng) if c.sampler is not None else 0.0
                share = step.cpuShare
            if step.perItem is not None:
                items = step.perItem.items
                n = self._layers(ctx) if items == "layers" else node.count(items)
                service += step.perItem.ms / 1000.0 * n
            cpu = service * share
            client_cpu = service * step.callerCpuShare  # the caller decodes the reply
            cpu_total = cpu + client_cpu if client_cpu > 0 else cpu
            rest = service - cpu_total + extra  # I/O, kernel, sleeps: after the CPU work
            rest = rest if rest > 0 else 0.0
            # The last CPU job fires when the rest is over too: one event for both. Not for a
            # caller that accounts CPU per process (stream sessions): it counts the CPU once
            # the CPU work is done, before the rest.
            merged = ctx.cpu is None and (cpu > 0 or client_cpu > 0)
            then = rest if merged else 0.0
            if cpu > 0:
                t = env.now
                served = yield node.cpu.run(cpu, step.process, then=0.0 if client_cpu > 0 else then)
                queued += (served - t) - cpu
            if client_cpu > 0:
                t = env.now
                served = yield node.cpu.run(client_cpu, caller, then=then)
                queued += (served - t) - client_cpu
            if ctx.cpu is not None:
                ctx.add_cpu(step.process, cpu_total - client_cpu)
                ctx.add_cpu(caller, client_cpu)
            if rest > 0 and not merged:
                yield env.timeout(rest)
            if ctx.source == "sync":  # what the pod's start-up waited on (model/attribution.py)
                charge_step(ctx.pod, step.process, step.lock.name if step.lock else "", lock_wait,
                            queued - lock_wait, cpu_total + rest)
            for f in step.failures:
                if rng.random() < f.probability:
                    raise HopFailure(c.hop, f.reason)
            if faults is not None:
                faults.after_step(step, ctx, c.hop, epoch)
            if kind == "cniAdd":
                node.cni_add(ctx.pod, c.hop)
            elif kind == "cniDel":
                node.cni_del(ctx.pod)
            elif kind == "pull":
                yield from node.images.pull(ctx.image, ctx, step.process)
            if step.spawns:
                node.spawn(step.process, ctx.pod)
            if step.reaps:
                node.reap(step.process, ctx.pod)
            for sub in self._active(c.calls, ctx) if c.calls else ():
                yield from self._step(sub, ctx, step.process, span_id, depth + 1)
        except HopFailure as f:
            outcome = f.reason
            raise
        finally:
            if lock_req is not None:
                lock.release(lock_req)
            node.recorder.span(span_id, parent, depth, ctx, step.name, step.process,
                               caller, step.transport, start, env.now, queued, outcome)
