"""The OpenRPC 1.3 document, built from the contract alone."""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Iterable
from typing import Any

import msgspec

from schema._procedure import Procedure
from schema.errors import ERRORS, ErrorData, ErrorName, ErrorObject

__all__ = ["OPENRPC_VERSION", "build_openrpc", "contract_hash"]

OPENRPC_VERSION = "1.3.2"
_REF = "#/components/schemas/{name}"


def build_openrpc(
    procedures: Iterable[Procedure[Any, Any]],
    *,
    title: str,
    version: str,
    server_url: str = "/rpc",
) -> dict[str, Any]:
    """An OpenRPC document: every method, its by-name params, result and declared errors."""
    procs = sorted(procedures, key=lambda p: p.name)
    types: list[Any] = [ErrorObject]
    for proc in procs:
        types += [proc.input, proc.output]
    types += [proc.event for proc in procs if proc.event is not None]
    raw_schemas, raw_components = msgspec.json.schema_components(types, ref_template=_REF)
    schemas = [_clean_docs(schema) for schema in raw_schemas]
    components = {name: _clean_docs(schema) for name, schema in raw_components.items()}
    events = iter(schemas[1 + 2 * len(procs) :])
    methods = [
        _method(proc, components, schemas[1 + 2 * i], schemas[2 + 2 * i])
        for i, proc in enumerate(procs)
    ]
    for proc, method in zip(procs, methods, strict=True):
        if proc.event is not None:  # OpenRPC has no subscriptions: an extension says how
            method["x-subscription"] = {
                "event": next(events),
                "notification": proc.name,
                "transports": ["websocket", "sse"],
                "resume": "lastEventId",
            }
    return {
        "openrpc": OPENRPC_VERSION,
        "info": {"title": title, "version": version},
        "servers": [{"name": title, "url": server_url}],
        "methods": methods,
        "components": {
            "schemas": dict(sorted(components.items())),
            "errors": {name: _error(name) for name in ERRORS},
        },
    }


def _method(
    proc: Procedure[Any, Any],
    components: dict[str, Any],
    input_schema: dict[str, Any],
    output_schema: dict[str, Any],
) -> dict[str, Any]:
    method: dict[str, Any] = {
        "name": proc.name,
        "summary": inspect.cleandoc(proc.summary),
        "tags": [{"name": proc.namespace}],
        "paramStructure": "by-name",
        "params": _params(components, input_schema),
        "result": {"name": "result", "schema": output_schema},
        "errors": [{"$ref": f"#/components/errors/{name}"} for name in proc.errors],
        "x-kind": proc.kind,
        "x-protected": proc.protected,
        "x-input": input_schema,
        "x-error-data": {code: _error_data(proc, code) for code in proc.errors},
    }
    if proc.description:
        method["description"] = inspect.cleandoc(proc.description)
    return method


def _params(components: dict[str, Any], input_schema: dict[str, Any]) -> list[dict[str, Any]]:
    """One content descriptor per field of the input Struct, in declaration order."""
    name = input_schema["$ref"].rpartition("/")[2]
    struct = components[name]
    required = set(struct.get("required", ()))
    params = []
    for field, schema in struct.get("properties", {}).items():
        param: dict[str, Any] = {"name": field, "required": field in required, "schema": schema}
        if "description" in schema:
            param["description"] = schema["description"]
        params.append(param)
    return params


def _error_data(proc: Procedure[Any, Any], code: ErrorName) -> dict[str, Any]:
    """The JSON Schema of ``error.data`` when ``proc`` fails with ``code`` (its reasons)."""
    data_type = proc.error_data(code)
    _refs, components = msgspec.json.schema_components([data_type], ref_template=_REF)
    return components[data_type.__name__]  # type: ignore[no-any-return]


# Keywords whose value is a schema, a list of schemas, or a mapping of names to schemas.
_SUBSCHEMA = frozenset({"items", "additionalProperties", "not", "if", "then", "else"})
_SUBSCHEMAS = frozenset({"anyOf", "oneOf", "allOf", "prefixItems"})
_NAMED_SUBSCHEMAS = frozenset({"properties", "patternProperties", "$defs"})


def _clean_docs(node: Any) -> Any:
    """``node`` with every title and description cleaned by ``inspect.cleandoc``.

    Docstrings reach the schema as the interpreter and msgspec leave them (msgspec
    0.23 dedents them, older releases did not; Python 3.13 strips indentation when it
    compiles), so the document is the same whichever versions generate it. Only
    schema keywords are walked: a ``default`` or an ``examples`` value is data.
    """
    if isinstance(node, list):
        return [_clean_docs(item) for item in node]
    if not isinstance(node, dict):
        return node
    cleaned: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("title", "description") and isinstance(value, str):
            value = inspect.cleandoc(value)
        elif key in _SUBSCHEMA or key in _SUBSCHEMAS:
            value = _clean_docs(value)
        elif key in _NAMED_SUBSCHEMAS and isinstance(value, dict):
            value = {name: _clean_docs(sub) for name, sub in value.items()}
        cleaned[key] = value
    return cleaned


def _error(name: ErrorName) -> dict[str, Any]:
    spec = ERRORS[name]
    data = ErrorData(code=name, http_status=spec.http_status)
    return {"code": spec.code, "message": spec.message, "data": msgspec.to_builtins(data)}


def contract_hash(document: dict[str, Any]) -> str:
    """A short digest of what an OpenRPC document promises: its methods and components
    (not its title, version or servers). Clients send theirs so stale ones show up."""
    promised = {"methods": document["methods"], "components": document["components"]}
    return hashlib.sha256(msgspec.json.encode(promised, order="sorted")).hexdigest()[:16]
