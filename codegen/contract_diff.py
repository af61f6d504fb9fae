"""Breaking changes between two OpenRPC documents, as ``buf breaking`` finds them for Protobuf.

Reads the documents alone (JSON), never the server. A change is breaking when a
client built against the old document may fail against the new one:

- a procedure removed, or its kind changed;
- an input that accepts less: a required field or param added, an optional one
  made required, a field removed, a type, enum, bound or pattern narrowed;
- an output that gives more or less than promised: a field removed or made
  optional, a type, enum or bound widened;
- an error code removed from a procedure's declaration;
- a subscription's event changed in any way.

Everything else that differs is listed as safe (a procedure, an optional input
or an output field added, an input widened, an error code declared).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal, NamedTuple

__all__ = ["Change", "diff"]

Direction = Literal["input", "output", "event"]
_MIN_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_MAX_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
_EXACT = ("pattern", "format", "multipleOf")
_TYPES = ("null", "boolean", "integer", "number", "string", "array", "object")


class Change(NamedTuple):
    """One difference: whether it breaks old clients, where, and what."""

    breaking: bool
    where: str
    what: str

    def __str__(self) -> str:
        return f"{'BREAKING' if self.breaking else 'safe'}  {self.where}: {self.what}"


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Every change from ``old`` to ``new``, breaking ones first."""
    olds = {m["name"]: m for m in old.get("methods", ())}
    news = {m["name"]: m for m in new.get("methods", ())}
    changes: list[Change] = []
    for name in sorted(olds.keys() - news.keys()):
        changes.append(Change(True, name, "procedure removed"))
    for name in sorted(news.keys() - olds.keys()):
        changes.append(Change(False, name, "procedure added"))
    for name in sorted(olds.keys() & news.keys()):
        changes += _method(name, olds[name], news[name], _Docs(old, new))
    return sorted(changes, key=lambda c: (not c.breaking, c.where))


class _Docs:
    """Both documents, to resolve each side's ``$ref``s."""

    def __init__(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        self.old, self.new = old, new
        self.seen: set[tuple[str, str, str]] = set()  # (old ref, new ref, direction)

    @staticmethod
    def resolve(doc: Mapping[str, Any], schema: Any) -> Any:
        while isinstance(schema, Mapping) and "$ref" in schema:
            node: Any = doc
            for part in schema["$ref"].removeprefix("#/").split("/"):
                node = node.get(part, {}) if isinstance(node, Mapping) else {}
            schema = node
        return schema


def _method(name: str, old: Any, new: Any, docs: _Docs) -> Iterator[Change]:
    kind_old, kind_new = old.get("x-kind"), new.get("x-kind")
    if kind_old != kind_new:
        yield Change(True, name, f"kind changed from {kind_old} to {kind_new}")
    if "subscription" in (kind_old, kind_new):
        event_old, event_new = _event(old), _event(new)
        for change in _schema(event_old, event_new, f"{name} event", "event", docs):
            yield change._replace(breaking=True, what=f"subscription event changed: {change.what}")
    answers = "x-subscription" in old and "x-subscription" in new
    if "subscription" in (kind_old, kind_new) and answers:
        # The event is in x-subscription; the result is the subscribe answer, an output.
        result_old = old.get("result", {}).get("schema", {})
        result_new = new.get("result", {}).get("schema", {})
        yield from _schema(result_old, result_new, f"{name} result", "output", docs)
    elif "subscription" not in (kind_old, kind_new):
        result_old = old.get("result", {}).get("schema", {})
        result_new = new.get("result", {}).get("schema", {})
        yield from _schema(result_old, result_new, f"{name} result", "output", docs)
    yield from _schema(_params(old), _params(new), f"{name} params", "input", docs)
    errors_old, errors_new = _errors(old), _errors(new)
    for code in sorted(errors_old - errors_new):
        yield Change(True, name, f"error code {code} removed")
    for code in sorted(errors_new - errors_old):
        yield Change(False, name, f"error code {code} declared")


def _event(method: Any) -> Any:
    """A subscription's event schema: ``x-subscription.event`` (documents that have no
    ``x-subscription`` gave it as ``x-event``, or as the result)."""
    extension = method.get("x-subscription")
    if isinstance(extension, Mapping) and "event" in extension:
        return extension["event"]
    return method.get("x-event", method.get("result", {}).get("schema", {}))


def _params(method: Any) -> dict[str, Any]:
    """A method's params as one object schema (by-name params are a Struct's fields)."""
    params = method.get("params", ())
    return {
        "type": "object",
        "properties": {p["name"]: p.get("schema", {}) for p in params},
        "required": [p["name"] for p in params if p.get("required")],
        "additionalProperties": False,
    }


def _errors(method: Any) -> set[str]:
    return {e.get("$ref", "").rpartition("/")[2] or str(e.get("code")) for e in method["errors"]}


def _verdict(direction: Direction, narrowed: bool, where: str, what: str) -> Change:
    """An input that narrows, or an output that widens, breaks old clients."""
    breaking = narrowed if direction == "input" else not narrowed
    if direction == "event":
        breaking = True
    return Change(breaking, where, what)


def _schema(old: Any, new: Any, where: str, direction: Direction, docs: _Docs) -> Iterator[Change]:
    if isinstance(old, Mapping) and isinstance(new, Mapping) and "$ref" in old and "$ref" in new:
        seen = (old["$ref"], new["$ref"], direction)
        if seen in docs.seen:  # a recursive type: compared once
            return
        docs.seen.add(seen)
    old, new = docs.resolve(docs.old, old), docs.resolve(docs.new, new)
    branches_old, branches_new = _branches(old, docs.old, docs), _branches(new, docs.new, docs)
    if "any" in branches_new and "any" not in branches_old:
        yield _verdict(direction, False, where, "now accepts any value")
        return
    if "any" in branches_old and "any" not in branches_new:
        yield _verdict(direction, True, where, "no longer accepts any value")
        return
    for kind in _TYPES:
        a, b = branches_old.get(kind), branches_new.get(kind)
        if a is not None and b is None:
            if kind == "integer" and "number" in branches_new:
                yield _verdict(direction, False, where, "integer widened to number")
            else:
                yield _verdict(direction, True, where, f"{kind} no longer allowed")
        elif a is None and b is not None:
            if kind == "number" and "integer" in branches_old:
                continue  # said once, above
            yield _verdict(direction, False, where, f"{kind} now allowed")
        elif a is not None and b is not None:
            yield from _details(kind, a, b, where, direction, docs)


def _branches(schema: Any, doc: Mapping[str, Any], docs: _Docs) -> dict[str, Any]:
    """The schema's alternatives by JSON type; ``{"any": {}}`` for a schema with no type."""
    if not isinstance(schema, Mapping):
        return {"any": {}}
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if alternatives:
        found: dict[str, Any] = {}
        for alternative in alternatives:
            found.update(_branches(docs.resolve(doc, alternative), doc, docs))
        return found
    values = schema.get("enum", [schema["const"]] if "const" in schema else None)
    if values is not None:
        kinds = {_kind_of(v) for v in values}
        return {k: {**schema, "enum": [v for v in values if _kind_of(v) == k]} for k in kinds}
    kind = schema.get("type")
    if kind is None:
        return {"any": {}}
    if isinstance(kind, list):
        return {k: {**schema, "type": k} for k in kind}
    return {kind: schema}


def _kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string" if isinstance(value, str) else "object"


def _details(
    kind: str, old: Any, new: Any, where: str, direction: Direction, docs: _Docs
) -> Iterator[Change]:
    yield from _enums(old, new, where, direction)
    yield from _bounds(old, new, where, direction)
    if kind == "object":
        yield from _objects(old, new, where, direction, docs)
    elif kind == "array":
        items_old, items_new = old.get("items", {}), new.get("items", {})
        yield from _schema(items_old, items_new, f"{where}[]", direction, docs)


def _enums(old: Any, new: Any, where: str, direction: Direction) -> Iterator[Change]:
    a, b = old.get("enum"), new.get("enum")
    if a is None and b is not None:
        yield _verdict(direction, True, where, f"now limited to {sorted(map(str, b))}")
    elif a is not None and b is None:
        yield _verdict(direction, False, where, "no longer limited to listed values")
    elif a is not None and b is not None:
        removed = [v for v in a if v not in b]
        added = [v for v in b if v not in a]
        if removed:
            yield _verdict(direction, True, where, f"values {removed} removed")
        if added:
            yield _verdict(direction, False, where, f"values {added} added")


def _bounds(old: Any, new: Any, where: str, direction: Direction) -> Iterator[Change]:
    for key in (*_MIN_BOUNDS, *_MAX_BOUNDS):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        lower = key in _MIN_BOUNDS
        if a is None:
            tighter = True
        elif b is None:
            tighter = False
        else:
            tighter = b > a if lower else b < a
        yield _verdict(direction, tighter, where, f"{key} {a} -> {b}")
    for key in _EXACT:
        a, b = old.get(key), new.get(key)
        if a != b:
            yield _verdict(direction, b is not None, where, f"{key} {a!r} -> {b!r}")


def _objects(old: Any, new: Any, where: str, direction: Direction, docs: _Docs) -> Iterator[Change]:
    props_old, props_new = old.get("properties", {}), new.get("properties", {})
    required_old, required_new = set(old.get("required", ())), set(new.get("required", ()))
    side = "input" if direction == "input" else "output"
    for field in props_old.keys() - props_new.keys():
        yield Change(True, f"{where}.{field}", f"{side} field removed")
    for field in sorted(props_new.keys() - props_old.keys()):
        if field in required_new:
            yield _verdict(direction, True, f"{where}.{field}", f"required {side} field added")
        else:
            yield Change(direction == "event", f"{where}.{field}", f"optional {side} field added")
    for field in sorted(props_old.keys() & props_new.keys()):
        at = f"{where}.{field}"
        if field in required_new and field not in required_old:
            yield _verdict(direction, True, at, "now required")
        elif field in required_old and field not in required_new:
            yield _verdict(direction, False, at, "now optional")
        yield from _schema(props_old[field], props_new[field], at, direction, docs)
