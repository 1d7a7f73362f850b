"""Errors a user can act on: one readable paragraph naming the field, the value and what is
allowed (never a traceback). Shared by the scenario, chain and sweep schemas.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from pydantic import ValidationError

__all__ = ["ConfigError", "format_validation_error", "named", "shown"]


class ConfigError(ValueError):
    """A scenario, override or chain that cannot be used; the message is one readable paragraph."""


class _Full(Exception):
    pass


def shown(value: Any, limit: int = 80, quote: bool | str = True) -> str:
    """``value`` as a user would type it (JSON-like), at most ``limit`` characters: longer text
    ends in "...". The work done is bounded by ``limit`` whatever the value: a value made of
    shared or self-referencing parts (YAML aliases) is never expanded, and a huge number is
    described rather than converted. ``quote=False`` shows a string without quotes, ``quote="'"``
    as Python does (``'name'``: file, preset and runtime names)."""
    out: list[str] = []
    room = [limit + 1]

    def emit(text: str) -> None:
        out.append(text[: room[0]])
        room[0] -= len(text)
        if room[0] <= 0:
            raise _Full

    def walk(v: Any, inside: tuple[int, ...]) -> None:
        if isinstance(v, (dict, list, tuple)):
            if id(v) in inside:
                emit("{...}" if isinstance(v, dict) else "[...]")
                return
            inside = inside + (id(v),)
            if isinstance(v, dict):
                emit("{")
                for i, (k, x) in enumerate(v.items()):
                    emit(", " if i else "")
                    walk(k, inside)
                    emit(": ")
                    walk(x, inside)
                emit("}")
            else:
                emit("[")
                for i, x in enumerate(v):
                    emit(", " if i else "")
                    walk(x, inside)
                emit("]")
        elif v is None or isinstance(v, bool):
            emit(json.dumps(v))
        elif isinstance(v, int):
            digits = v.bit_length() * 0.30103
            emit(str(v) if digits < 60 else f"<a whole number of about {digits:.0f} digits>")
        elif isinstance(v, float):
            emit(repr(v) if math.isfinite(v) else {"inf": ".inf", "-inf": "-.inf"}.get(repr(v), ".nan"))
        elif isinstance(v, str):
            if quote == "'":
                emit(repr(v[: limit + 1]))
            else:
                emit(json.dumps(v[: limit + 1], ensure_ascii=False) if quote else v[: limit + 1])
        else:
            emit(str(v)[: limit + 1])

    try:
        walk(value, ())
    except _Full:
        pass
    except RecursionError:  # deeper than Python's stack: show what was built
        pass
    text = "".join(out)
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def did_you_mean(name: Any, choices: "list[str] | tuple[str, ...]") -> str:
    """" (did you mean 'x'?)" for the closest of ``choices`` to a mistyped ``name`` (difflib), or
    "" when none is close: appended to an "unknown ..." message."""
    import difflib

    if not isinstance(name, str):
        return ""
    close = difflib.get_close_matches(name[:200], list(choices), n=2, cutoff=0.6)
    if not close:
        return ""
    return " (did you mean " + " or ".join(named(c) for c in close) + "?)"


def named(name: Any, limit: int = 80) -> str:
    """A file, preset or runtime name as Python shows it (``'x.yaml'``), truncated."""
    return shown(name, limit, quote="'")


def _loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            # pydantic adds the discriminator tag ('lognormal') and 'function-after' markers.
            if part in ("constant", "exponential", "lognormal") or "[" in str(part):
                continue
            out += ("." if out else "") + str(part)
    return out


def _given_by(field: str, flags: dict[str, str] | None) -> str:
    """`` (given by --set KEY=VALUE)`` when the field comes from a command-line flag."""
    if not flags or not field:
        return ""
    keys = {re.sub(r"\.(\d+)(?=\.|$)", r"[\1]", k): k for k in flags}  # templates.0 -> templates[0]
    hits = [k for k in keys if field == k or field.startswith((k + ".", k + "["))
            or k.startswith((field + ".", field + "["))]
    return f" (given by {shown(flags[keys[max(hits, key=len)]], 100, quote=False)})" if hits else ""


def _candidates(tp: Any) -> list[Any]:
    """The types ``tp`` may be: ``Annotated`` and ``Optional``/unions unwrapped."""
    import types
    from typing import Annotated, Union, get_args, get_origin

    origin = get_origin(tp)
    if origin is Annotated:
        return _candidates(get_args(tp)[0])
    if origin is Union or origin is types.UnionType:
        return [c for a in get_args(tp) for c in _candidates(a) if c is not type(None)]
    return [tp]


def _model_at(model: Any, loc: tuple) -> Any:
    """The pydantic model class at ``loc`` inside ``model`` (through fields, list items and dict
    values), or None when it cannot be told (a union of models, a plain value)."""
    from typing import get_args, get_origin

    from pydantic import BaseModel

    tp = model
    for part in loc:
        step = None
        for c in _candidates(tp):
            origin = get_origin(c)
            if isinstance(c, type) and issubclass(c, BaseModel):
                if isinstance(part, str) and part in c.model_fields:
                    step = c.model_fields[part].annotation
                    break
            elif origin in (list, tuple) and isinstance(part, int) and get_args(c):
                step = get_args(c)[0]
                break
            elif origin is dict and isinstance(part, str) and len(get_args(c)) == 2:
                step = get_args(c)[1]
                break
        if step is None:
            return None
        tp = step
    models = [c for c in _candidates(tp) if isinstance(c, type) and issubclass(c, BaseModel)]
    return models[0] if len(models) == 1 else None


def _section_hint(e: Any, model: Any) -> tuple[Any, str]:
    """The model class of an unknown key's section (or None) and the closest allowed keys
    (difflib, " (did you mean 'x'?)" or "")."""
    section = _model_at(model, tuple(e["loc"][:-1])) if model is not None else None
    if section is None:
        return None, ""
    names = list(section.model_fields) + [f.alias for f in section.model_fields.values() if f.alias]
    names += [n for n in getattr(section, "known_keys", ()) if n not in names]
    return section, did_you_mean(e["loc"][-1] if e["loc"] else None, names)


def _unknown_key(e: Any, field: str, model: Any) -> str:
    """The message of an unknown key: the closest allowed keys of its section and, for a
    section that says so (``unknown_key_note``), what it allows."""
    parent = field.rsplit(".", 1)[0] if "." in field else "the top level"
    section, hint = _section_hint(e, model)
    note = getattr(section, "unknown_key_note", None)
    if isinstance(note, str):
        return note.format(did_you_mean=hint)
    return f"unknown key (not a field of {parent}{hint}; check the spelling and camelCase)"


def _unknown_keys(group: list, where: str, flags: dict[str, str] | None, model: Any) -> str:
    """Several unknown keys of one section in one sentence: each key (dotted), its value and
    the closest allowed keys, then once what the section allows."""
    items, section = [], None
    for e in group:
        field = shown(_loc(e["loc"]), 160, quote=False)
        value = e.get("input")
        section, hint = _section_hint(e, model)
        items.append(f"'{field}' = {shown(value, 40) if not isinstance(value, dict) else '{...}'}{hint}")
    first = shown(_loc(group[0]["loc"]), 160, quote=False)
    parent = first.rsplit(".", 1)[0] if "." in first else "the top level"
    note = getattr(section, "unknown_key_note", None)
    if isinstance(note, str):
        what = note.format(did_you_mean="").replace("unknown key: not a field of", "not fields of", 1)
    else:
        what = f"not fields of {parent}; check the spelling and camelCase"
    return (f"{where}: {len(group)} unknown keys{_given_by(first, flags)}: " + ", ".join(items)
            + f": {what}.")


def format_validation_error(err: ValidationError, where: str = "scenario",
                            flags: dict[str, str] | None = None, model: Any = None) -> str:
    """One paragraph per problem: the field (dotted), the value given and what is
    allowed; ``flags`` maps dotted keys to the command-line flag that set them, named in the
    message; ``model`` (the schema validated, e.g. ``Scenario``) lets an unknown key get the
    closest allowed keys of its section ("did you mean"). Several unknown keys of one section
    make one sentence."""
    lines = []
    errors = err.errors()
    unknown: dict[tuple, list] = {}
    for e in errors:
        if e["type"] == "extra_forbidden":
            unknown.setdefault(tuple(e["loc"][:-1]), []).append(e)
    for e in errors:
        field = shown(_loc(e["loc"]), 160, quote=False)
        msg = shown(e["msg"].removeprefix("Value error, "), 400, quote=False)
        if e["type"] == "extra_forbidden":
            group = unknown[tuple(e["loc"][:-1])]
            if len(group) > 1:
                if e is group[0]:
                    lines.append(_unknown_keys(group, where, flags, model))
                continue
            msg = _unknown_key(e, field, model)
        value = e.get("input")
        text = shown(value) if not isinstance(value, dict) else "{...}"
        end = "" if msg.endswith((".", "?", "!")) else "."
        if not field:
            lines.append(f"{where}: {msg}{end}")
            continue
        lines.append(f"{where} field '{field}'{_given_by(field, flags)} = {text}: {msg}{end}")
    return " ".join(lines)
