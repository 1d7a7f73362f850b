"""Errors a user can act on: one readable paragraph naming the field, the value and what is
allowed (never a traceback). Shared by the scenario, chain and sweep schemas.
"""

from __future__ import annotations

import json

from pydantic import ValidationError

__all__ = ["ConfigError", "format_validation_error"]


class ConfigError(ValueError):
    """A scenario, override or chain that cannot be used; the message is one readable paragraph."""


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


def format_validation_error(err: ValidationError, where: str = "scenario") -> str:
    """One paragraph per problem: the field (dotted), the value given and what is allowed."""
    lines = []
    for e in err.errors():
        field = _loc(e["loc"])
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            parent = field.rsplit(".", 1)[0] if "." in field else "the top level"
            msg = f"unknown key (not a field of {parent}; check the spelling and camelCase)"
        value = e.get("input")
        shown = json.dumps(value, default=str) if not isinstance(value, dict) else "{...}"
        if len(shown) > 80:
            shown = shown[:77] + "..."
        end = "" if msg.endswith((".", "?", "!")) else "."
        if not field:
            lines.append(f"{where}: {msg}{end}")
            continue
        lines.append(f"{where} field '{field}' = {shown}: {msg}{end}")
    return " ".join(lines)
