"""The input boundary: every file kubesim reads goes through here.

Scenario, sweep and chain files (YAML, or JSON/TOML for scenarios), trace CSVs, kubelet
``/metrics`` scrapes (``calibrate``), and the shipped presets, chains and validation cases.
Before a file's content reaches a schema it is checked here, and refused as one
:class:`~simulator.errors.ConfigError` paragraph that names the file, where in it (line, key)
the problem is, the value (shown truncated, never expanded) and what is allowed:

* not a regular file (a folder, a FIFO such as ``/dev/stdin``, a device), or missing;
* larger than the limit of its kind (``LIMITS``), checked before it is read;
* binary (a NUL byte) or not UTF-8 (a UTF-8 byte-order mark is accepted);
* YAML whose aliases expand to more than ``MAX_NODES`` nodes (a "billion laughs" alias bomb of
  a few hundred bytes would otherwise cost gigabytes wherever the value is walked), an alias
  that refers to the node it is inside (a self-referencing, infinite value), nesting deeper than
  ``MAX_DEPTH``, or a key given twice in one mapping (PyYAML silently keeps the last);
* JSON with a repeated key or the non-standard ``NaN``/``Infinity`` literals.

Aliases themselves are allowed: the shipped chains share step lists with anchors
(``&docker_start_calls``), which expand to a few thousand nodes.
"""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError, named, shown

__all__ = ["LIMITS", "MAX_DEPTH", "MAX_NODES", "YamlSyntaxError", "finite_or_none", "load_document", "parse_json",
           "parse_toml",
           "parse_yaml", "read_text"]

MiB = 1024 * 1024
# The largest file of each kind that is read; a bigger one is refused before it is read.
LIMITS = {
    # ASSUMPTION: the largest shipped YAML is a chain of 55 kB (chains/dockershim.yaml); 1 MiB
    # leaves 18x room and parses in about a second.
    "yaml": 1 * MiB,
    # ASSUMPTION: a trace row ("12.5,web,300,nginx:1.25") is ~20-40 bytes and a trace has at
    # most workload.pods <= 1,000,000 rows, so at most ~40 MB.
    "csv": 64 * MiB,
    # ASSUMPTION: the shipped scrapes (examples/metrics) are 100-250 kB; a kubelet's /metrics
    # with a few hundred pods and histogram buckets is a few MB.
    "scrape": 32 * MiB,
}
# ASSUMPTION: the shipped chains expand (aliases followed) to < 3,000 nodes (chains/dockershim.yaml:
# 2,958); 100,000 leaves 30x room while an alias bomb of a few hundred bytes (6 levels of 9
# references: 9**6 = 531,441 nodes) is stopped before anything walks it.
MAX_NODES = 100_000
# ASSUMPTION: the shipped files nest at most ~15 levels; PyYAML's composer recurses per level.
MAX_DEPTH = 100


class YamlSyntaxError(ConfigError):
    """Text that is not YAML at all (as opposed to YAML this module refuses)."""


def _line(mark: Any) -> str:
    return f" line {mark.line + 1}" if mark is not None else ""


def _human(n: int) -> str:
    return f"{n / MiB:.0f} MiB" if n >= MiB else f"{n} bytes"


def read_text(path: str | Path, what: str, kind: str = "yaml") -> str:
    """The text of the file ``path`` (``what`` names it in messages, e.g. "scenario file"),
    checked: a regular file, at most ``LIMITS[kind]`` bytes, no NUL byte, UTF-8."""
    p = Path(path)
    name = named(str(p))
    limit = LIMITS[kind]
    try:
        st = p.stat()
    except FileNotFoundError:
        raise ConfigError(f"{what} {name} does not exist") from None
    except OSError as e:
        raise ConfigError(f"{what} {name} cannot be read: {e.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise ConfigError(f"{what} {name} is a folder; give the path of a file")
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(f"{what} {name} is not a regular file (a pipe, socket or device); "
                          "save the content to a file and give its path")
    if st.st_size > limit:
        raise ConfigError(f"{what} {name} is {st.st_size:,} bytes; the limit for a {what} is "
                          f"{_human(limit)} ({limit:,} bytes)")
    try:
        with open(p, "rb") as f:
            data = f.read(limit + 1)
    except OSError as e:
        raise ConfigError(f"{what} {name} cannot be read: {e.strerror}") from None
    if len(data) > limit:  # grew since stat
        raise ConfigError(f"{what} {name} is larger than the limit for a {what}, {_human(limit)}")
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise ConfigError(f"{what} {name} is not a text file: it holds a NUL byte at byte {nul} (line "
                          f"{line}), as binary files do; expected UTF-8 text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise ConfigError(f"{what} {name} is not a text file in UTF-8: byte {e.start} (line {line}) is "
                          f"0x{data[e.start]:02x}; save the file as UTF-8") from None
    return text.removeprefix("\ufeff")


# ----------------------------------------------------------------------------- YAML
class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader with the checks above: aliases bounded, self-reference, depth and
    repeated keys refused (``where`` names the document in messages)."""

    where = "YAML"

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._open: list[Any] = []  # anchors of the values being composed (None: no anchor)

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self._open:
                raise ConfigError(f"{self.where}{_line(event.start_mark)}: the alias "
                                  f"*{shown(event.anchor, 40, quote=False)} refers to a value it is "
                                  "inside, an infinitely deep value; an alias may only repeat a "
                                  "finished value")
            return super().compose_node(parent, index)
        if len(self._open) >= MAX_DEPTH:
            raise ConfigError(f"{self.where}{_line(event.start_mark)}: values are nested "
                              f"more than {MAX_DEPTH} levels deep; the limit is {MAX_DEPTH}")
        self._open.append(getattr(event, "anchor", None))
        try:
            return super().compose_node(parent, index)
        finally:
            self._open.pop()

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        first: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # "<<: *base" keys may be overridden by the mapping's own keys
            key = self.construct_object(key_node, deep=True)
            try:
                line = first.get(key)
                if line is None:
                    first[key] = key_node.start_mark.line + 1
            except TypeError:  # an unhashable key: the constructor refuses it below
                continue
            if line is not None:
                value = (shown(value_node.value, 40) if isinstance(value_node, yaml.ScalarNode)
                         else "a " + ("list" if isinstance(value_node, yaml.SequenceNode) else "mapping"))
                raise ConfigError(f"{self.where}{_line(key_node.start_mark)}: key "
                                  f"{shown(key, 60)} appears twice in one mapping (first on line {line}; "
                                  f"again with {value}); each key may appear once (YAML would silently "
                                  "keep the last)")
        return super().construct_mapping(node, deep=deep)


def _expanded_size(root: Any, where: str) -> int:
    """The number of nodes ``root`` stands for with every alias followed (capped at
    ``MAX_NODES + 1``); refused when, aliases followed, it nests deeper than ``MAX_DEPTH``."""
    done: dict[int, tuple[int, int]] = {}  # id -> (size, height)

    def too_deep() -> ConfigError:
        return ConfigError(f"{where}: with its aliases (*name) followed, values are nested more than "
                           f"{MAX_DEPTH} levels deep; the limit is {MAX_DEPTH}")

    def visit(n: Any, level: int) -> tuple[int, int]:
        if level > MAX_DEPTH:
            raise too_deep()
        key = id(n)
        if key in done:
            if level + done[key][1] > MAX_DEPTH + 1:
                raise too_deep()
            return done[key]
        total, height = 1, 1
        children = (n.value if isinstance(n, yaml.SequenceNode)
                    else [c for kv in n.value for c in kv] if isinstance(n, yaml.MappingNode) else [])
        for c in children:
            size, h = visit(c, level + 1)
            total, height = total + size, max(height, h + 1)
            if total > MAX_NODES:
                total = MAX_NODES + 1
                break
        done[key] = (total, height)
        return done[key]

    return visit(root, 1)[0]


def parse_yaml(text: str, where: str) -> Any:
    """``text`` parsed as one YAML document with the checks of this module; ``where`` names it
    in messages (e.g. "scenario file 'x.yaml'")."""
    loader = _Loader(text)
    loader.where = where
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        n = _expanded_size(node, where)
        if n > MAX_NODES:
            raise ConfigError(f"{where}: its aliases (*name) expand to more than {MAX_NODES:,} values "
                              "(an alias bomb?); the limit is "
                              f"{MAX_NODES:,} values with every alias followed")
        return loader.construct_document(node)
    except ConfigError:
        raise
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        at = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = " ".join(str(x) for x in (e.context, e.problem) if x)
        raise YamlSyntaxError(f"{where} could not be parsed as YAML ({at.strip() or 'position unknown'}): "
                              f"{shown(problem, 160, quote=False)}") from None
    except yaml.YAMLError as e:
        raise YamlSyntaxError(f"{where} could not be parsed as YAML: {shown(str(e), 160, quote=False)}") from None
    except (ValueError, OverflowError, RecursionError) as e:  # e.g. an int of 5,000 digits
        raise ConfigError(f"{where}: a value cannot be read: {shown(str(e), 160, quote=False)}") from None
    finally:
        loader.dispose()


# ----------------------------------------------------------------------------- JSON / TOML
def _no_duplicates(where: str):
    def hook(pairs: list[tuple[str, Any]]) -> dict:
        out: dict = {}
        for k, v in pairs:
            if k in out:
                raise ConfigError(f"{where}: key {shown(k, 60)} appears twice in one object; "
                                  "each key may appear once")
            out[k] = v
        return out
    return hook


def _no_constant(where: str):
    def hook(word: str) -> Any:
        raise ConfigError(f"{where}: {word} is not a number; every number must be finite")
    return hook


def parse_json(text: str, where: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates(where), parse_constant=_no_constant(where))
    except json.JSONDecodeError as e:
        raise ConfigError(f"{where} could not be parsed as JSON (line {e.lineno}, column {e.colno}): "
                          f"{e.msg}") from None
    except (ValueError, RecursionError) as e:
        if isinstance(e, ConfigError):
            raise
        raise ConfigError(f"{where}: a value cannot be read: {shown(str(e), 160, quote=False)}") from None


def parse_toml(text: str, where: str) -> Any:
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{where} could not be parsed as TOML: {shown(str(e), 160, quote=False)}") from None
    except (ValueError, RecursionError) as e:
        raise ConfigError(f"{where}: a value cannot be read: {shown(str(e), 160, quote=False)}") from None


def load_document(path: str | Path, what: str) -> Any:
    """The file ``path`` read and parsed by its suffix (``.json``, ``.toml``, else YAML), with
    every check of this module; ``what`` names it ("scenario file", "chain file")."""
    text = read_text(path, what, "yaml")
    where = f"{what} {named(os.fspath(path))}"
    suffix = Path(path).suffix.lower()
    if suffix == ".json":
        return parse_json(text, where)
    if suffix == ".toml":
        return parse_toml(text, where)
    return parse_yaml(text, where)


def finite_or_none(value: Any) -> Any:
    """``value`` (JSON-like: dicts, lists, numbers) with every ``inf`` and ``nan`` replaced by
    ``None``, so that ``json.dumps(..., allow_nan=False)`` writes valid JSON (``null``), never
    ``Infinity`` or ``NaN``: for writers of summaries built from measured values."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(v) for v in value]
    return value
