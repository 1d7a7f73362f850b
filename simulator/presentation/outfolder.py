"""Output folders the tool owns only in part: safe names, staging, a manifest, the user's umask.

Rules every writer follows (issue 11):

* **Inside the folder the user names.** A name that comes from input (a scenario's ``name``, a
  chain file's path used as a runtime label, a pod name) becomes one file-name component through
  :func:`safe_name`; :func:`inside` refuses any relative path with ``..``, an absolute path or a
  path that resolves outside the folder.
* **Nothing half-written.** :func:`staged` hands the writer a staging folder next to the target;
  only when the writer returns are its files moved into the target (each by ``os.replace``). On
  an error the staging folder is removed and the target is as it was (not even created).
* **Only its own files deleted.** The folder's manifest (``.kubesim-manifest.json``) lists the
  files kubesim wrote there; a new write deletes the files of the previous manifest it did not
  write again, and never any other file.
* **The user's umask.** Files written through :func:`atomic_write` get mode ``0o666 & ~umask``
  (``tempfile.mkstemp`` alone would leave them 0600).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from ..errors import ConfigError

__all__ = ["MANIFEST", "atomic_write", "check_folder", "check_file_target", "inside", "safe_name",
           "staged", "umask_mode"]

MANIFEST = ".kubesim-manifest.json"
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")
_umask_lock = threading.Lock()


def safe_name(text: str, what: str = "name") -> str:
    """``text`` as one file-name component: runs of characters other than letters, digits and
    ``._+-`` become one ``-``, leading dots and dashes are dropped (no hidden files, no ``..``)."""
    name = re.sub("-{2,}", "-", _UNSAFE.sub("-", str(text))).lstrip(".-").rstrip("-")[:120]
    if not name:
        raise ConfigError(f"{what} {str(text)[:80]!r} gives an empty file name; use letters, "
                          "digits, '.', '_', '+' or '-'")
    return name


def inside(folder: Path, relative: str | Path) -> Path:
    """``folder / relative``, refused unless it stays inside ``folder``."""
    rel = Path(relative)
    if rel.is_absolute() or ".." in rel.parts:
        raise ConfigError(f"output name {str(relative)!r} would leave the output folder "
                          f"{str(folder)!r}; names may not be absolute or contain '..'")
    target = folder / rel
    base = folder.resolve()
    if base not in target.resolve().parents and target.resolve() != base:
        raise ConfigError(f"output name {str(relative)!r} resolves outside the output folder {str(folder)!r}")
    return target


def umask_mode(mode: int = 0o666) -> int:
    """``mode`` with the process's umask applied (the mode a plain ``open`` would create)."""
    with _umask_lock:
        mask = os.umask(0o022)
        os.umask(mask)
    return mode & ~mask


def check_folder(out: Path, flag: str = "--out") -> None:
    """Refuse an output folder that names an existing file (or lies under one)."""
    for p in [out, *out.parents]:
        if p.exists() and not p.is_dir():
            raise ConfigError(f"{flag} {str(out)!r}: {str(p)!r} is an existing file, not a folder; "
                              "give a folder for the outputs")


def check_file_target(path: Path, flag: str = "--out") -> None:
    """Refuse an output file that names an existing folder (or lies under a file)."""
    if path.is_dir():
        raise ConfigError(f"{flag} {str(path)!r} is an existing folder; give a file name")
    check_folder(path.parent, flag)


def atomic_write(path: Path, writer: Callable[[Path], object]) -> Path:
    """Write ``path`` through a temporary file in its folder renamed into place, with the mode
    a plain ``open`` would give it under the current umask."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        writer(Path(tmp))
        os.chmod(tmp, umask_mode())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _read_manifest(out: Path) -> list[str]:
    try:
        files = json.loads((out / MANIFEST).read_text(encoding="utf-8")).get("files", [])
    except (OSError, ValueError, AttributeError):
        return []
    return [f for f in files if isinstance(f, str)]


def _relative_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


@contextmanager
def staged(out: Path, flag: str = "--out") -> Iterator[Path]:
    """A staging folder for writing ``out``'s files; committed into ``out`` when the block ends
    without an error (files of the previous manifest not written again are deleted), removed
    otherwise."""
    check_folder(out, flag)
    parent = out.parent if str(out.parent) else Path(".")
    parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name or 'out'}.staging.", dir=parent))
    try:
        yield stage
        new = _relative_files(stage)
        old = _read_manifest(out) if out.is_dir() else []
        out.mkdir(parents=True, exist_ok=True)
        for rel in new:
            target = inside(out, rel)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(stage / rel, target)
        for rel in sorted(set(old) - set(new)):
            try:
                target = inside(out, rel)
            except ConfigError:
                continue  # a tampered manifest never deletes outside the folder
            if target.is_file() and not target.is_symlink():
                target.unlink()
        atomic_write(out / MANIFEST, lambda p: p.write_text(
            json.dumps({"tool": "kubesim", "files": new}, indent=1) + "\n", encoding="utf-8"))
    finally:
        shutil.rmtree(stage, ignore_errors=True)
