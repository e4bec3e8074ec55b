"""The client's address behind reverse proxies: believed from forwarded headers only when a trusted proxy sent them.

Rate limits, code caps and consent evidence key on the client address (`request.client.host`). A client can write
any `X-Forwarded-For` it likes, so the header is read only when the direct peer is one of
`PRIVET_TRUSTED_PROXIES` (none by default, where the peer itself is the client), and only the one header
`PRIVET_FORWARDED_HEADER` names. The list is walked from the right (the hop nearest to Privet): trusted proxies
are skipped, and the first address that is not a trusted proxy is the client. Entries a client put in front of
the real ones are therefore never reached. `privet serve` turns uvicorn's own proxy handling off (it trusts
127.0.0.1 by default), so this middleware is the one place that decides.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
SCHEMES = {"http": ("http", "https"), "websocket": ("ws", "wss")}


def parse_address(text: str) -> Address | None:
    """An address from a header entry: `1.2.3.4`, `1.2.3.4:80`, `[::1]:80`, `::1`, quoted or not; None otherwise."""
    text = text.strip().strip('"').strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # IPv4 with a port (an IPv6 address has several colons)
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None  # "unknown", an obfuscated "_node", garbage
    return address.ipv4_mapped or address if isinstance(address, ipaddress.IPv6Address) else address


def _forwarded_elements(value: str) -> list[dict[str, str]]:
    """RFC 7239 `Forwarded` elements as dicts of lower-cased parameter names."""
    elements = []
    for element in value.split(","):
        params = {}
        for pair in element.split(";"):
            name, _, item = pair.partition("=")
            if name.strip():
                params[name.strip().lower()] = item.strip().strip('"')
        elements.append(params)
    return elements


class TrustedProxies:
    """ASGI middleware rewriting the client address (and scheme) from a trusted proxy's forwarded header."""

    def __init__(self, app: ASGIApp, trusted: Iterable[str] = (), header: str = "x-forwarded-for") -> None:
        self.app = app
        self.networks: list[Network] = [ipaddress.ip_network(n, strict=False) for n in trusted]
        self.header = header.lower()

    def trusted(self, address: Address | None) -> bool:
        """Whether `address` is one of the trusted proxies."""
        return address is not None and any(address in network for network in self.networks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.networks and scope["type"] in SCHEMES and scope.get("client"):
            found = self.resolve(scope)
            if found is not None:
                scope = {**scope, "client": (found[0], 0)}
                if found[1] in SCHEMES[scope["type"]]:
                    scope["scheme"] = found[1]
        await self.app(scope, receive, send)

    def resolve(self, scope: Scope) -> tuple[str, str | None] | None:
        """(client address, scheme or None) from the headers, or None when the peer is not trusted or sent none."""
        if not self.trusted(parse_address(scope["client"][0])):
            return None
        values = [v.decode("latin-1") for k, v in scope["headers"] if k == self.header.encode()]
        if not values:
            return None
        if self.header == "forwarded":
            elements = [e for v in values for e in _forwarded_elements(v)]
            hops = [e.get("for", "") for e in elements]
            scheme = next((e["proto"].lower() for e in reversed(elements) if e.get("proto")), None)
        else:
            hops = [hop for v in values for hop in v.split(",")]
            protos = [v.decode("latin-1") for k, v in scope["headers"] if k == b"x-forwarded-proto"]
            scheme = protos[-1].split(",")[-1].strip().lower() if protos else None
        client = None
        for hop in reversed(hops):
            address = parse_address(hop)
            if address is None:  # not an address: the last trusted hop is as far as anything is known
                break
            client = address
            if not self.trusted(address):
                break
        return (str(client), scheme) if client is not None else None
