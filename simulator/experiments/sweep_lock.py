"""What keeps a sweep safe (issue 11): one sweep per folder, workers that die with the driver,
run keys that change when an input file changes.

* :func:`folder_lock` holds an exclusive ``fcntl.flock`` on ``OUT/.kubesim-sweep.lock`` for the
  sweep's lifetime; a second sweep into the same folder is refused at once with a clear error
  (the lock is released by the kernel when the holder exits, even by ``kill -9``).
* :func:`worker_init` is the initializer of every local worker process: on Linux it asks the
  kernel for SIGKILL when its parent dies (``prctl(PR_SET_PDEATHSIG)``), and on every system a
  watchdog thread exits the worker once the driver is gone, so a killed sweep leaves no orphan.
  Workers ignore SIGINT: Ctrl-C reaches the driver, which stops them (:func:`stop_pool`).
* :func:`input_digests` hashes the content of every file a run reads besides the scenario
  (the trace CSV, chain files given by path, resolved with their ``base:``), so that editing one
  and resuming recomputes the runs that read it instead of reusing stale results.
"""

from __future__ import annotations

import ctypes
import fcntl
import hashlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import IO, Iterator, Optional

import yaml

from ..chains import chain_from_data, is_chain_file
from ..config import ConfigError, Scenario

__all__ = ["LOCK_FILE", "folder_lock", "input_digests", "process_pool", "stop_pool", "worker_init"]

LOCK_FILE = ".kubesim-sweep.lock"
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_WATCH_SECONDS = 0.5  # ASSUMPTION: how soon an orphaned worker notices; any small value works


@contextmanager
def folder_lock(out: Path) -> Iterator[None]:
    """Hold the exclusive lock of sweep folder ``out`` (created if needed) for the block."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {str(out)!r} is a file; give a folder for the sweep's results")
    out.mkdir(parents=True, exist_ok=True)
    handle: IO[str] = open(out / LOCK_FILE, "a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(f"--out {str(out)!r} is in use by another kubesim sweep (it holds "
                              f"{LOCK_FILE}); wait for it to finish or give another --out") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        handle.close()  # closing the file releases the lock


def _watch(driver: int, parent: int) -> None:
    while True:
        time.sleep(_WATCH_SECONDS)
        gone = os.getppid() != parent
        if not gone:
            try:
                os.kill(driver, 0)
            except ProcessLookupError:
                gone = True
            except PermissionError:
                pass
        if gone:
            os._exit(1)


def worker_init(driver: int) -> None:
    """Initializer of a sweep's worker process (``driver``: the sweep's process id)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # the watchdog below covers it
    if not _alive(driver):
        os._exit(1)  # the driver died before prctl took effect
    threading.Thread(target=_watch, args=(driver, parent), daemon=True, name="kubesim-watchdog").start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def fork_context() -> Optional[BaseContext]:
    """On Linux, workers forked from this process: they inherit the imported model (a spawned
    worker imports numpy, pandas, pydantic and kubesim again, seconds on a busy machine) and the
    parsed chains. Elsewhere (macOS, Windows: fork unsafe or absent) the platform's default."""
    return multiprocessing.get_context("fork") if sys.platform.startswith("linux") else None


def process_pool(workers: int) -> ProcessPoolExecutor:
    """Local worker processes that exit when the driver dies and leave Ctrl-C to it."""
    return ProcessPoolExecutor(max_workers=workers, initializer=worker_init, initargs=(os.getpid(),),
                               mp_context=fork_context())


def stop_pool(pool: ProcessPoolExecutor, interrupted: bool) -> None:
    """Shut the pool down; on an interruption, stop the workers now instead of waiting for the
    runs they hold (a finished run is on disk already, an unfinished one is recomputed)."""
    if interrupted:
        for proc in list(getattr(pool, "_processes", {}).values()):
            proc.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


def _file_digest(path: Path, what: str) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as e:
        raise ConfigError(f"{what} {str(path)!r} cannot be read: {e.strerror}") from None


def input_digests(scenario: Scenario, runtime: str) -> dict[str, str]:
    """SHA-256 of the content of each file the run reads besides the scenario, by role (empty
    when it reads none, so that such runs keep their keys)."""
    out: dict[str, str] = {}
    w = scenario.workload
    if w.kind == "trace" and w.traceFile:
        out["workload.traceFile"] = _file_digest(Path(w.traceFile), "workload.traceFile")
    names = [runtime]
    if scenario.cluster is not None:
        names += [p.runtime for p in scenario.cluster.pools]
        if scenario.cluster.migration is not None:
            names.append(scenario.cluster.migration.toRuntime)
    for name in dict.fromkeys(names):
        if is_chain_file(name):  # the resolved chain, read afresh: its base: files included
            try:
                data = yaml.safe_load(Path(name).read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
                raise ConfigError(f"chain file {name!r} cannot be read: {e}".replace("\n", " ")) from None
            doc = chain_from_data(data if isinstance(data, dict) else {}, name).model_dump_json()
            out[f"chain {name}"] = hashlib.sha256(doc.encode("utf-8")).hexdigest()
    return out
