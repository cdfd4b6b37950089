"""Outgoing HTTP that refuses private, loopback and link-local destinations.

The check happens when the connection is made, on the address actually dialled, so DNS
rebinding (a name that resolves to a public address when checked and a private one when
used) can't slip through."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import anyio
import httpcore
import httpx
from httpcore._backends.auto import AutoBackend


class BlockedAddress(httpx.ConnectError):
    """The destination resolves to an address outgoing requests may not reach."""


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


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
