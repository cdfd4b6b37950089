"""Outgoing HTTP that refuses private, loopback and link-local destinations.

`blocked_host` is the rule: applied when a user gives a URL (so a bad one is refused at once)
and again when the connection is made, to the name and then to the address actually dialled,
so DNS rebinding (a name that resolves to a public address when checked and a private one when
used) can't slip through."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any, Literal

import anyio
import httpcore
import httpx
from httpcore._backends.auto import AutoBackend


class BlockedAddress(httpx.ConnectError):
    """The destination resolves to an address outgoing requests may not reach."""


LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
HostKind = Literal["loopback", "private", "public"]


def is_public(address: str) -> bool:
    """True for an address outgoing requests may reach: globally routable unicast. An IPv6
    address that carries an IPv4 one (mapped, 6to4, NAT64) is judged by the IPv4 address."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public(str(embedded))
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


def host_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address `host` spells, in any form a resolver accepts (dotted, decimal, hex, octal or
    short IPv4; IPv6 with or without brackets or a zone), or None when it is a name."""
    literal = host.strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(literal)
    except ValueError:
        pass
    try:
        # inet_aton reads 2130706433, 0x7f.1 and 0177.0.0.1 the way getaddrinfo would.
        return ipaddress.IPv4Address(socket.inet_aton(literal))
    except OSError:
        return None


def host_kind(host: str) -> HostKind:
    """Where a URL's host points, as far as can be told without DNS: `loopback` (localhost and
    every name under .localhost, 127/8, ::1, in any spelling, with or without trailing dots),
    `private` (any other address that is not public) or `public` (a public address, or a name:
    each address a name resolves to is checked again when it is dialled)."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return "loopback"
    address = host_address(name)
    if address is None:
        return "public"
    if address.is_loopback or (
        isinstance(address, ipaddress.IPv6Address)
        and address.ipv4_mapped is not None
        and address.ipv4_mapped.is_loopback
    ):
        return "loopback"
    return "public" if is_public(str(address)) else "private"


def blocked_host(host: str, allow_private: bool) -> str | None:
    """Why outgoing requests may not go to `host`, or None when they may (so far as the name
    tells: the addresses it resolves to are checked when dialled). The one rule for a URL given
    by a user (a webhook endpoint, a resume_url) and for the connection made to it later."""
    if allow_private or host_kind(host) == "public":
        return None
    return f"{host} is a private or local address (private, loopback or link-local)"


class GuardedBackend(AutoBackend):
    def __init__(self, allow_private: bool) -> None:
        super().__init__()
        self.allow_private = allow_private

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        reason = blocked_host(host, self.allow_private)
        if reason:
            raise BlockedAddress(reason)
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = [str(info[4][0]) for info in infos]
        allowed = [a for a in addresses if self.allow_private or is_public(a)]
        if not allowed:
            raise BlockedAddress(f"{host} resolves to a private or local address ({', '.join(addresses)})")
        # Dial the checked address itself; TLS still verifies the original host name.
        return await super().connect_tcp(
            allowed[0], port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )


def guarded_client(allow_private: bool = False, timeout: float = 15.0) -> httpx.AsyncClient:
    """An httpx client for requests to addresses chosen by users (webhooks, resume URLs)."""
    transport = httpx.AsyncHTTPTransport(retries=0)
    # httpx has no public hook for the network backend; swap its pool for one that uses ours.
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        max_connections=100,
        max_keepalive_connections=20,
        keepalive_expiry=5.0,
        network_backend=GuardedBackend(allow_private),
    )
    return httpx.AsyncClient(
        transport=transport,
        timeout=timeout,
        follow_redirects=False,
        headers={"user-agent": "Viva-Webhooks/1"},
    )
