"""Errors a user can act on: one readable paragraph naming the field, the value and what is
allowed (never a traceback); several problems found at once, one line each. Shared by the
scenario, chain and sweep schemas.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from pydantic import BaseModel, ValidationError

__all__ = ["ConfigError", "allowed_keys", "did_you_mean", "format_validation_error", "named", "shown"]


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


def _candidates(t: Any) -> list[Any]:
    """``t`` without ``Optional``/``Union``/``Annotated``: the types a value of it may have."""
    import typing

    origin = typing.get_origin(t)
    if origin is typing.Annotated:
        return _candidates(typing.get_args(t)[0])
    if origin is typing.Union or type(t).__name__ == "UnionType":
        return [c for a in typing.get_args(t) for c in _candidates(a)]
    return [t]


def _is_model(t: Any) -> bool:
    return isinstance(t, type) and issubclass(t, BaseModel)


def _tagged(model: Any, tag: str) -> bool:
    """Whether ``model`` is the union member pydantic names ``tag``: its class name, or the value
    of a ``Literal`` field (the discriminator, e.g. ``kind: Literal["shimCrash"]``)."""
    import typing

    return model.__name__ == tag or any(
        typing.get_origin(f.annotation) is typing.Literal and tag in typing.get_args(f.annotation)
        for f in model.model_fields.values())


def _sections(model: Any, loc: tuple) -> list[Any]:
    """The model classes found where ``loc`` (a pydantic error location, the unknown key
    excluded) points in ``model`` (any member of a union), or []."""
    import typing

    types = _candidates(model)
    for part in loc:
        nxt: list[Any] = []
        for t in types:
            origin, args = typing.get_origin(t), typing.get_args(t)
            if isinstance(part, int) and origin in (list, tuple, set, frozenset) and args:
                nxt += _candidates(args[0])
            elif isinstance(part, str) and _is_model(t) and part in t.model_fields:
                nxt += _candidates(t.model_fields[part].annotation)
            elif isinstance(part, str) and origin is dict and len(args) == 2:
                nxt += _candidates(args[1])
        if nxt:
            types = nxt
        elif isinstance(part, str):  # a union member's tag ('shimCrash') pydantic adds: narrow
            types = [t for t in types if _is_model(t) and _tagged(t, part)] or types
        else:
            return []
    return [t for t in types if _is_model(t)]


def allowed_keys(model: Any, loc: tuple) -> list[str]:
    """The keys allowed where ``loc`` (a pydantic error location, the unknown key excluded) points
    in ``model``: the fields of the model found there (of any member of a union), or []."""
    names: list[str] = []
    for t in _sections(model, loc):
        names += [f.alias or n for n, f in t.model_fields.items() if (f.alias or n) not in names]
    return names


def _unknown_key(field: str, key: Any, model: Any, loc: tuple) -> str:
    """An unknown key's message: the closest allowed keys ("did you mean", difflib) and what is
    allowed there; a section that accepts more keys than it models (``known_keys``, e.g. the
    kubelet's KubeletConfiguration fields) is searched for those too, and a section with an
    ``unknown_key_note`` says what it allows in its own words."""
    parent = field.rsplit(".", 1)[0] if "." in field else "the top level"
    sections = _sections(model, loc) if model is not None else []
    allowed = allowed_keys(model, loc) if model is not None else []
    known = [n for t in sections for n in getattr(t, "known_keys", ()) if n not in allowed]
    if not allowed and not known:
        return f"unknown key (not a field of {parent}; check the spelling and camelCase)"
    hint = did_you_mean(key, allowed + known)
    notes = [t.unknown_key_note for t in sections if isinstance(getattr(t, "unknown_key_note", None), str)]
    if notes:
        return notes[0].format(did_you_mean=hint)
    listed = shown(", ".join(allowed), 240, quote=False)
    return f"unknown key (not a field of {parent}){hint}; allowed: {listed}"


def format_validation_error(err: ValidationError, where: str = "scenario",
                            flags: dict[str, str] | None = None, model: Any = None, sep: str = "\n") -> str:
    """One line per problem (joined by ``sep``): the field (dotted), the value given and what is
    allowed; ``flags`` maps dotted keys to the command-line flag that set them, named in the
    message; with the validated ``model`` an unknown key gets the allowed keys and the closest
    of them ("did you mean", difflib)."""
    lines = []
    for e in err.errors():
        field = shown(_loc(e["loc"]), 160, quote=False)
        msg = shown(e["msg"].removeprefix("Value error, "), 400, quote=False)
        if e["type"] == "extra_forbidden":
            msg = _unknown_key(field, e["loc"][-1] if e["loc"] else "", model, tuple(e["loc"][:-1]))
        value = e.get("input")
        text = shown(value) if not isinstance(value, dict) else "{...}"
        end = "" if msg.endswith((".", "?", "!")) else "."
        if not field:
            lines.append(f"{where}: {msg}{end}")
            continue
        lines.append(f"{where} field '{field}'{_given_by(field, flags)} = {text}: {msg}{end}")
    return sep.join(lines)
