"""kit.net's rule for where outgoing requests may go, in every spelling of a host."""

from __future__ import annotations

import pytest

from viva.kit.net import blocked_host, host_kind, is_public


@pytest.mark.parametrize(
    ("host", "kind"),
    [
        ("localhost", "loopback"),
        ("localhost.", "loopback"),
        ("LOCALHOST..", "loopback"),
        ("x.localhost", "loopback"),
        ("a.b.localhost.", "loopback"),
        ("ip6-localhost", "loopback"),
        ("127.0.0.1", "loopback"),
        ("127.1", "loopback"),
        ("2130706433", "loopback"),
        ("0x7f000001", "loopback"),
        ("0177.0.0.1", "loopback"),
        ("[::1]", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.1", "private"),
        ("169.254.169.254", "private"),
        ("0.0.0.0", "private"),
        ("0", "private"),
        ("100.64.0.1", "private"),
        ("224.0.0.1", "private"),
        ("fe80::1%eth0", "private"),
        ("[fd00::1]", "private"),
        ("::7f00:1", "private"),
        ("2002:7f00:1::", "private"),
        ("64:ff9b::7f00:1", "private"),
        ("hooks.example.com", "public"),
        ("localhost.example.com", "public"),
        ("93.184.216.34", "public"),
        ("2606:4700::1111", "public"),
        ("64:ff9b::5db8:d822", "public"),  # NAT64 to a public address
    ],
)
def test_host_kinds(host, kind):
    assert host_kind(host) == kind
    assert (blocked_host(host, allow_private=False) is None) == (kind == "public")
    assert blocked_host(host, allow_private=True) is None


def test_is_public_judges_embedded_ipv4_addresses():
    assert not is_public("::ffff:10.0.0.1") and not is_public("2002:a00:1::")
    assert is_public("::ffff:93.184.216.34") and is_public("8.8.8.8")
