"""The OpenRPC 1.3 document, built from the contract alone."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from schema._procedure import Procedure
from schema.errors import ERRORS, ErrorData, ErrorName, ErrorObject

__all__ = ["OPENRPC_VERSION", "build_openrpc"]

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
    schemas, components = msgspec.json.schema_components(types, ref_template=_REF)
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
        "summary": proc.summary,
        "tags": [{"name": proc.namespace}],
        "paramStructure": "by-name",
        "params": _params(components, input_schema),
        "result": {"name": "result", "schema": output_schema},
        "errors": [{"$ref": f"#/components/errors/{name}"} for name in proc.errors],
        "x-kind": proc.kind,
        "x-protected": proc.protected,
        "x-input": input_schema,
    }
    if proc.description:
        method["description"] = proc.description
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


def _error(name: ErrorName) -> dict[str, Any]:
    spec = ERRORS[name]
    data = ErrorData(code=name, http_status=spec.http_status)
    return {"code": spec.code, "message": spec.message, "data": msgspec.to_builtins(data)}
