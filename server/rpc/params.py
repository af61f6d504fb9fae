"""Decoding a procedure's params with its own typed decoder, built once."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from schema.errors import Issue
from server.rpc.errors import RpcError

__all__ = ["ParamsDecoder", "issue_of"]

_EMPTY = b"{}"
_AT = re.compile(r"^(?P<message>.*?)(?: - at `(?P<path>[^`]*)`)?$", re.DOTALL)
_FIELD = re.compile(r"(?:missing required|unknown) field `(?P<field>[^`]*)`")


class ParamsDecoder:
    """Turns raw ``params`` JSON (an object, an array, or absent) into the input Struct."""

    __slots__ = ("_decoder", "_names", "input")

    def __init__(self, input: type[Any]) -> None:
        self.input = input
        self._decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(input)
        self._names = tuple(f.encode_name for f in msgspec.structs.fields(input))

    def decode(self, raw: bytes | msgspec.Raw | None) -> Any:
        """Params by name (object) or by position (array, in field order)."""
        if raw is None:
            raw = _EMPTY
        elif memoryview(raw)[0] == 0x5B:  # '['
            raw = self._by_position(raw)
        try:
            return self._decoder.decode(raw)
        except msgspec.ValidationError as exc:
            raise RpcError("INVALID_PARAMS", issues=[issue_of(exc)]) from None

    def _by_position(self, raw: bytes | msgspec.Raw) -> bytes:
        values = msgspec.json.decode(raw)
        if len(values) > len(self._names):
            message = f"Expected at most {len(self._names)} positional params, got {len(values)}"
            raise RpcError("INVALID_PARAMS", issues=[Issue(path="$", message=message)])
        return msgspec.json.encode(dict(zip(self._names, values, strict=False)))


def issue_of(exc: msgspec.ValidationError) -> Issue:
    """msgspec's error as ``{path, message}``; a missing or unknown field is in the path."""
    match = _AT.match(str(exc))
    assert match is not None  # the pattern matches every string
    message, path = match["message"], match["path"] or "$"
    field = _FIELD.search(message)
    if field is not None:
        path = f"{path}.{field['field']}"
    return Issue(path=path, message=message)
