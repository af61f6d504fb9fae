"""Decoding a procedure's params with its own typed decoder, built once."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from schema.errors import Issue
from server.rpc.errors import RpcError

__all__ = ["NotStructured", "ParamsDecoder", "issue_of"]

_EMPTY = b"{}"
_NOT_AN_OBJECT = "Expected `object`, got "
_decode_array = msgspec.json.Decoder(list[msgspec.Raw]).decode
_AT = re.compile(r"^(?P<message>.*?)(?: - at `(?P<path>[^`]*)`)?$", re.DOTALL)
_FIELD = re.compile(r"(?:missing required|unknown) field `(?P<field>[^`]*)`")
_TOO_DEEP = Issue(path="$", message="Nested too deeply")
_ECHO = 128  # a caller's own text (an unknown field's name) is echoed back at most this long


class NotStructured(RpcError):
    """``params`` is neither an object nor an array: the request object itself is invalid."""

    def __init__(self) -> None:
        issue = Issue(path="$.params", message="Expected an object or an array")
        super().__init__("INVALID_REQUEST", issues=[issue])


class ParamsDecoder:
    """Turns raw ``params`` JSON (an object, an array, or absent) into the input Struct."""

    __slots__ = ("_decoder", "_keys", "_names", "input")

    def __init__(self, input: type[Any]) -> None:
        self.input = input
        self._decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(input)
        self._names = tuple(f.encode_name for f in msgspec.structs.fields(input))
        self._keys = tuple(msgspec.json.encode(name) for name in self._names)

    def decode(self, raw: bytes | msgspec.Raw | None) -> Any:
        """Params by name (an object), or by position (an array, in field order)."""
        try:
            return self._decoder.decode(_EMPTY if raw is None else raw)
        except msgspec.ValidationError as exc:
            message = str(exc)
            if message.startswith(_NOT_AN_OBJECT) and " - at `" not in message:
                return self._not_an_object(raw)  # off the hot path: checked only on failure
            raise RpcError("INVALID_PARAMS", issues=[issue_of(exc)]) from None
        except RecursionError:  # valid JSON, deeper than the stack left to decode it
            raise RpcError("INVALID_PARAMS", issues=[_TOO_DEEP]) from None

    def _not_an_object(self, raw: bytes | msgspec.Raw | None) -> Any:
        if raw is None or bytes(raw)[:1] != b"[":
            raise NotStructured()
        try:
            values = _decode_array(raw)  # each value kept as raw JSON: nothing is re-parsed lossily
        except RecursionError:
            raise RpcError("INVALID_PARAMS", issues=[_TOO_DEEP]) from None
        if len(values) > len(self._names):
            message = f"Expected at most {len(self._names)} positional params, got {len(values)}"
            raise RpcError("INVALID_PARAMS", issues=[Issue(path="$", message=message)])
        pairs = (b"%s:%s" % (name, bytes(v)) for name, v in zip(self._keys, values, strict=False))
        named = b"{" + b",".join(pairs) + b"}"
        try:
            return self._decoder.decode(named)
        except msgspec.ValidationError as exc:
            raise RpcError("INVALID_PARAMS", issues=[issue_of(exc)]) from None
        except RecursionError:
            raise RpcError("INVALID_PARAMS", issues=[_TOO_DEEP]) from None


def issue_of(exc: msgspec.ValidationError) -> Issue:
    """msgspec's error as ``{path, message}``; a missing or unknown field is in the path."""
    match = _AT.match(str(exc))
    assert match is not None  # the pattern matches every string
    message, path = match["message"], match["path"] or "$"
    field = _FIELD.search(message)
    if field is not None:
        name = field["field"]
        if len(name) > _ECHO:
            short = f"{name[:_ECHO]}…"
            message = message.replace(f"`{name}`", f"`{short}`")
            name = short
        path = f"{path}.{name}"
    return Issue(path=_shortened(path), message=_shortened(message))


def _shortened(text: str, limit: int = 2 * _ECHO) -> str:
    return text if len(text) <= limit else f"{text[:limit]}…"
