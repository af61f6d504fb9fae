"""TSDoc from the contract: docstrings, descriptions, constraints and wire formats."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import msgspec.inspect as mi
from msgspec import NODEFAULT

__all__ = ["doc_comment", "field_doc"]


def field_doc(f: mi.Field) -> str:
    """A field's TSDoc: its description, then what the schema says about its value."""
    description, facts = _description(f.type), _facts(f.type)
    parts = [p for p in (description, facts) if p]
    if not f.required and f.default is not NODEFAULT:
        parts.append(f"@defaultValue `{_default(f.default)}`")
    elif f.default_factory is not NODEFAULT:
        parts.append(f"@defaultValue `{_default(f.default_factory())}`")
    return "\n\n".join(parts)


def _description(t: mi.Type) -> str:
    """The first description (or title) on the type or, for ``X | None``, on its members."""
    while isinstance(t, mi.Metadata):
        extra = t.extra_json_schema or {}
        found = str(extra.get("description", "") or extra.get("title", ""))
        if found:
            return found
        t = t.type
    if isinstance(t, mi.UnionType):
        return next((d for d in map(_description, t.types) if d), "")
    return ""


def _facts(t: mi.Type) -> str:
    """Constraints and wire formats that TypeScript's types cannot say."""
    while isinstance(t, mi.Metadata):
        t = t.type
    if isinstance(t, mi.UnionType):
        return " ".join(f for f in (_facts(s) for s in t.types) if f)
    if isinstance(t, (mi.IntType, mi.FloatType)):
        kind = "Integer" if isinstance(t, mi.IntType) else "Number"
        bounds = [
            f"{op} {v}"
            for op, v in (("≥", t.ge), ("> ", t.gt), ("≤", t.le), ("< ", t.lt))
            if v is not None
        ]
        if t.multiple_of is not None:
            bounds.append(f"a multiple of {t.multiple_of}")
        if kind == "Number" and not bounds:
            return ""  # a plain float is what TypeScript's number already says
        return f"{kind}{', ' if bounds else ''}{', '.join(b.replace('  ', ' ') for b in bounds)}."
    if isinstance(t, mi.StrType):
        return _length("String", t.min_length, t.max_length, "characters", t.pattern)
    if isinstance(t, (mi.BytesType, mi.ByteArrayType, mi.MemoryViewType)):
        size = _length("", t.min_length, t.max_length, "bytes", None).strip()
        return f"Base64-encoded bytes{', ' + size if size else '.'}"
    if isinstance(t, mi.CollectionType):
        return _capitalized(_length("", t.min_length, t.max_length, "items", None))
    if isinstance(t, (mi.DictType, mi.FrozenDictType)):
        return _capitalized(_length("", t.min_length, t.max_length, "entries", None))
    return _FORMATS.get(type(t), "")


_FORMATS: dict[type, str] = {
    mi.DateTimeType: "Date and time, RFC 3339 (`2024-05-01T12:00:00Z`).",
    mi.DateType: "Date, ISO 8601 (`2024-05-01`).",
    mi.TimeType: "Time of day, ISO 8601 (`12:00:00`).",
    mi.TimeDeltaType: "Duration, ISO 8601 (`P1DT2H`).",
    mi.UUIDType: "UUID (`c0ffee00-...`).",
    mi.DecimalType: "Decimal number as a string (`12.50`).",
}


def _length(kind: str, low: int | None, high: int | None, unit: str, pattern: str | None) -> str:
    if low is not None and high is not None:
        size = f"{low} to {high} {unit}" if low != high else f"exactly {low} {unit}"
    elif low is not None:
        size = f"at least {low} {unit}"
    elif high is not None:
        size = f"at most {high} {unit}"
    else:
        size = ""
    text = ", ".join(p for p in (kind, size) if p)
    if pattern is not None:
        text += f"{',' if text else ''} matching `{pattern}`"
    return f"{text}." if size or pattern else ""


def _capitalized(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:]


def doc_comment(text: str, *, indent: str = "") -> str:
    """``text`` as a TSDoc block (nothing when empty)."""
    if not text.strip():
        return ""
    # Docstrings are reStructuredText (``code``); TSDoc is Markdown (`code`).
    lines = text.replace("``", "`").replace("*/", "*\\/").strip().splitlines()
    if len(lines) == 1:
        return f"{indent}/** {lines[0]} */\n"
    body = "\n".join(f"{indent} *{' ' if line else ''}{line}" for line in lines)
    return f"{indent}/**\n{body}\n{indent} */\n"


def _default(value: Any) -> str:
    return json.dumps(msgspec.to_builtins(value, str_keys=True), ensure_ascii=False)
