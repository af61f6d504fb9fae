"""The client's address: the peer, or what trusted proxies say (``FORWARDED_ALLOW_IPS``).

``X-Forwarded-For`` and ``Forwarded`` are believed only when the peer is a
trusted proxy; the list is read from the right, skipping trusted hops, so a
client cannot smuggle an address in by sending the header itself.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from aiohttp import web

__all__ = ["TRUSTED_PROXIES", "TrustedProxies", "client_address"]

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    """Addresses and networks (``10.0.0.0/8``) whose forwarding headers are believed;
    ``*`` trusts every peer (only behind a proxy that overwrites the headers)."""

    def __init__(self, entries: Iterable[str]) -> None:
        entries = tuple(entries)
        self.any = "*" in entries
        self.networks: tuple[_Network, ...] = tuple(
            ipaddress.ip_network(e, strict=False) for e in entries if e != "*"
        )

    def __bool__(self) -> bool:
        return self.any or bool(self.networks)

    def trusts(self, address: str) -> bool:
        """Whether ``address`` is a trusted proxy."""
        if self.any:
            return True
        try:
            ip = ipaddress.ip_address(address.strip("[]"))
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def client(self, peer: str, hops: Sequence[str]) -> str:
        """The client, given the peer and the forwarded hops (client first)."""
        if not hops or not self.trusts(peer):
            return peer
        for hop in reversed(hops):
            if not self.trusts(hop):
                return hop
        return hops[0]


TRUSTED_PROXIES = web.AppKey("trusted_proxies", TrustedProxies)
_CLIENT = web.RequestKey("client_address", str)


def client_address(request: web.Request) -> str:
    """The address to log and to rate-limit by (behind trusted proxies, computed once
    per request; else the peer's, which costs less to read again than to keep)."""
    proxies = request.app.get(TRUSTED_PROXIES)
    if not proxies:
        return _peer(request)
    found: str | None = request.get(_CLIENT)
    if found is not None:
        return found
    address = request[_CLIENT] = proxies.client(_peer(request), _hops(request))
    return address


def _peer(request: web.Request) -> str:
    transport = request.transport
    peername = transport.get_extra_info("peername") if transport is not None else None
    if isinstance(peername, tuple | list) and peername:
        return str(peername[0])
    return request.remote or "unknown"


def _hops(request: web.Request) -> list[str]:
    forwarded = request.forwarded  # RFC 7239, parsed by aiohttp
    hops = [str(hop["for"]) for hop in forwarded if hop.get("for")]
    if hops:
        return [_strip_port(hop) for hop in hops]
    header = ",".join(request.headers.getall("X-Forwarded-For", ()))
    return [part.strip() for part in header.split(",") if part.strip()]


def _strip_port(hop: str) -> str:
    """``[2001:db8::1]:4711`` -> ``2001:db8::1``; ``192.0.2.1:80`` -> ``192.0.2.1``."""
    if hop.startswith("["):
        return hop[1 : hop.find("]")] if "]" in hop else hop
    host, colon, port = hop.rpartition(":")
    return host if colon and port.isdigit() and host.count(":") == 0 else hop
