"""Call chains as data.

A chain (``simulator/chains/*.yaml``) lists, for each CRI operation the kubelet issues, the
ordered steps it takes through the runtime's processes. Each step names the process that does
the work, the transport it is reached by, its service-time distribution, the share of that time
spent on a CPU, the lock it holds (a per-container lock in dockerd, a per-pod network lock in
dockershim, containerd's bbolt writer lock...), the calls it makes to the next hop, and its
failure modes; and every step names its source. One interpreter
(``simulator.model.runtime.interpreter``) walks any chain, so a user can copy a chain file and
edit it ("containerd + crun", "dockershim without the extra inspect") without writing Python.

This module is the chain *schema* and its loader; it knows nothing of the model that runs it.

A chain may name a ``base`` chain: it then starts from the base's processes and operations and
replaces those it lists (``cri-dockerd`` is ``dockershim`` moved into its own process).
"""

from __future__ import annotations

from .loading import (
    CHAIN_DIR,
    chain_from_data,
    is_chain_file,
    known_chains,
    load_chain,
    resolve_chain,
)
from .schema import (
    ALL_OPERATIONS,
    CONDITIONS,
    OPERATIONS,
    OPTIONAL_OPERATIONS,
    REQUIRED_OPERATIONS,
    TRANSPORTS,
    Chain,
    LockSpec,
    Operation,
    ProcessSpec,
    Step,
    iter_steps,
)
from .streaming import (
    KIND_OPERATIONS,
    STREAM_KINDS,
    STREAM_OPERATIONS,
    DataHop,
    ListenSpec,
)

__all__ = [
    "Chain",
    "Step",
    "Operation",
    "ProcessSpec",
    "load_chain",
    "CHAIN_DIR",
    "REQUIRED_OPERATIONS",
    "OPTIONAL_OPERATIONS",
    "OPERATIONS",
    "known_chains",
    "TRANSPORTS",
    "CONDITIONS",
    "iter_steps",
    "LockSpec",
    "is_chain_file",
    "resolve_chain",
    "chain_from_data",
    "ALL_OPERATIONS",
    "STREAM_OPERATIONS",
    "STREAM_KINDS",
    "KIND_OPERATIONS",
    "DataHop",
    "ListenSpec",
]
