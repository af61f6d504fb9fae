"""msgspec types to TypeScript: one flat ladder over ``msgspec.inspect`` types.

Named types (Structs, TypedDicts, dataclasses, NamedTuples, Enums) take the very
names ``msgspec.json.schema_components`` gives them, so a TypeScript interface and
its OpenRPC component always share a name.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec.inspect as mi
from msgspec import NODEFAULT

from codegen._docs import doc_comment, field_doc

__all__ = ["Named", "TypeScript"]

_Fields = (mi.StructType, mi.TypedDictType, mi.DataclassType, mi.NamedTupleType)


@dataclass(frozen=True, slots=True)
class Named:
    """A named type to declare once: its TypeScript name, its msgspec type info, its docs."""

    name: str
    info: mi.Type
    doc: str


@dataclass(slots=True)
class TypeScript:
    """Translates msgspec type infos to TypeScript type expressions.

    ``inputs`` are the named types reachable from a procedure's input: a field
    with a default is optional there. Elsewhere (outputs only) such a field is
    always on the wire, unless its Struct omits defaults or it may be UNSET.
    """

    infos: dict[Any, mi.Type]
    names: dict[Any, str]
    inputs: set[Any] = field(default_factory=set)
    aliases: dict[frozenset[Any], str] = field(default_factory=dict)

    @classmethod
    def of(
        cls, types: Iterable[Any], inputs: Iterable[Any], aliases: dict[frozenset[Any], str]
    ) -> TypeScript:
        """A translator for ``types`` (inputs among them), named as msgspec names them.

        ``aliases`` names literal unions declared elsewhere (the error codes).
        """
        infos = mi.multi_type_info(list(types))
        named = _collect(infos)
        reachable: dict[Any, mi.Type] = {}
        for info in mi.multi_type_info(list(inputs)):
            _walk(info, reachable)
        return cls(named, _name_map(named), set(reachable), aliases)

    def named(self) -> list[Named]:
        """Every named type, sorted by name."""
        return sorted(
            (Named(self.names[c], t, _doc(t)) for c, t in self.infos.items()),
            key=lambda n: n.name,
        )

    def expr(self, t: mi.Type) -> str:
        """The TypeScript expression for ``t`` (named types by reference)."""
        while isinstance(t, mi.Metadata):
            t = t.type
        cls = getattr(t, "cls", None)
        if cls is not None and cls in self.names:
            return self.names[cls]
        if isinstance(t, (mi.AnyType, mi.RawType)):
            return "unknown"
        if isinstance(t, mi.NoneType):
            return "null"
        if isinstance(t, mi.BoolType):
            return "boolean"
        if isinstance(t, (mi.IntType, mi.FloatType)):
            return "number"
        if isinstance(
            t,
            (
                mi.StrType,
                mi.BytesType,
                mi.ByteArrayType,
                mi.MemoryViewType,
                mi.DateTimeType,
                mi.DateType,
                mi.TimeType,
                mi.TimeDeltaType,
                mi.UUIDType,
                mi.DecimalType,
            ),
        ):
            return "string"
        if isinstance(t, mi.LiteralType):
            alias = self.aliases.get(frozenset(t.values))
            return alias or _union(_literal(v) for v in t.values)
        if isinstance(t, mi.UnionType):
            return _union(self.expr(s) for s in t.types)
        if isinstance(t, mi.CollectionType):
            return f"{_wrap(self.expr(t.item_type))}[]"
        if isinstance(t, mi.TupleType):
            return "[" + ", ".join(self.expr(s) for s in t.item_types) + "]"
        if isinstance(t, (mi.DictType, mi.FrozenDictType)):
            return self._record(t.key_type, t.value_type)
        raise TypeError(f"no TypeScript mapping for {t!r} (JSON has no such type)")

    def declaration(self, named: Named) -> str:
        """``export interface`` / ``export type`` for one named type, with its TSDoc."""
        t, head = named.info, doc_comment(named.doc)
        if isinstance(t, mi.EnumType):
            values = _union(_literal(m.value) for m in t.cls)
            return f"{head}export type {named.name} = {values};\n"
        if isinstance(t, mi.NamedTupleType) or (isinstance(t, mi.StructType) and t.array_like):
            items = ", ".join(f"{f.encode_name}: {self.expr(f.type)}" for f in t.fields)
            return f"{head}export type {named.name} = [{items}];\n"
        assert isinstance(t, (mi.StructType, mi.TypedDictType, mi.DataclassType))
        lines = []
        if isinstance(t, mi.StructType) and t.tag_field is not None:
            lines.append(f"  {t.tag_field}: {_literal(t.tag)};")
        # An input's optional field also takes `undefined` (JSON.stringify leaves it out), so
        # `{ cursor }` with `cursor: string | undefined` compiles under exactOptionalPropertyTypes.
        sent = getattr(t, "cls", None) in self.inputs
        for f in t.fields:
            optional = self._optional(t, f)
            expr = self.expr(f.type) + (" | undefined" if optional and sent else "")
            lines.append(
                doc_comment(field_doc(f), indent="  ")
                + f"  {f.encode_name}{'?' if optional else ''}: {expr};"
            )
        if not lines:  # an empty object literal type would accept any object at all
            return f"{head}export type {named.name} = Record<string, never>;\n"
        body = "\n".join(lines)
        return f"{head}export interface {named.name} {{\n{body}\n}}\n"

    def _optional(self, t: mi.Type, f: mi.Field) -> bool:
        if f.required:
            return False
        cls = getattr(t, "cls", None)
        if cls in self.inputs or isinstance(t, mi.TypedDictType):
            return True
        unset = f.default is NODEFAULT and f.default_factory is NODEFAULT
        omit = isinstance(t, mi.StructType) and bool(t.cls.__struct_config__.omit_defaults)
        return unset or omit

    def _record(self, key: mi.Type, value: mi.Type) -> str:
        while isinstance(key, mi.Metadata):
            key = key.type
        keys = self.expr(key)
        if isinstance(key, (mi.LiteralType, mi.EnumType)):
            return f"Partial<Record<{keys}, {self.expr(value)}>>"
        return f"Record<string, {self.expr(value)}>"


def _literal(value: Any) -> str:
    return json.dumps(value) if value is not None else "null"


def _union(parts: Iterable[str]) -> str:
    unique = list(dict.fromkeys(parts))
    return " | ".join(unique) if unique else "never"


def _wrap(expr: str) -> str:
    """Parenthesize a union before ``[]``; only a union at the top level needs it."""
    depth = 0
    for i, char in enumerate(expr):
        depth += char in "([{<"
        depth -= char in ")]}>"
        if depth == 0 and expr.startswith(" | ", i):
            return f"({expr})"
    return expr


def _doc(t: mi.Type) -> str:
    cls: Any = getattr(t, "cls", None)
    cls = getattr(cls, "__origin__", cls)
    doc = (getattr(cls, "__doc__", "") or "").strip()
    if isinstance(t, mi.EnumType) and doc == "An enumeration.":
        return ""
    if isinstance(t, (mi.NamedTupleType, mi.DataclassType)) and doc.startswith(f"{cls.__name__}("):
        return ""
    return inspect.cleandoc(doc)


def _collect(infos: Iterable[mi.Type]) -> dict[Any, mi.Type]:
    """Every named type in these trees, in msgspec's order (it decides name conflicts)."""
    found: dict[Any, mi.Type] = {}
    for info in infos:
        _walk(info, found)
    return found


def _walk(t: mi.Type, found: dict[Any, mi.Type]) -> None:
    if isinstance(t, _Fields):
        if t.cls not in found:
            found[t.cls] = t
            for f in t.fields:
                _walk(f.type, found)
    elif isinstance(t, mi.EnumType):
        found[t.cls] = t
    elif isinstance(t, mi.Metadata):
        _walk(t.type, found)
    elif isinstance(t, mi.CollectionType):
        _walk(t.item_type, found)
    elif isinstance(t, mi.TupleType):
        for s in t.item_types:
            _walk(s, found)
    elif isinstance(t, (mi.DictType, mi.FrozenDictType)):
        _walk(t.key_type, found)
        _walk(t.value_type, found)
    elif isinstance(t, mi.UnionType):
        for s in t.types:
            _walk(s, found)


def _name_map(named: dict[Any, mi.Type]) -> dict[Any, str]:
    """msgspec's own naming rule: the class name, or its full path when two share it."""

    def normalize(name: str) -> str:
        return re.sub(r"[^a-zA-Z0-9_]", "_", name)  # msgspec keeps "." and "-": TS cannot

    def plain(cls: Any) -> str:
        origin = getattr(cls, "__origin__", None)
        if origin is None:
            return normalize(cls.__name__)
        args = ", ".join(a.__name__ if isinstance(a, type) else repr(a) for a in cls.__args__)
        return normalize(f"{origin.__name__}[{args}]")

    def full(cls: Any) -> str:
        return normalize(f"{cls.__module__}.{cls.__qualname__}")

    counts: dict[str, int] = {}
    for cls in named:
        counts[plain(cls)] = counts.get(plain(cls), 0) + 1
    return {cls: plain(cls) if counts[plain(cls)] == 1 else full(cls) for cls in named}
