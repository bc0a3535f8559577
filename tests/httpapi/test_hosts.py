"""Which `Host` headers a server answers (the DNS rebinding check)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from httpapi import HostCheck, is_loopback, is_wildcard
from httpapi.hosts import host_name


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("example.com", "example.com"),
        ("example.com:8081", "example.com"),
        ("[::1]:8081", "::1"),
        ("[::1]", "::1"),
        ("127.0.0.1:80", "127.0.0.1"),
    ],
)
def test_host_name_drops_the_port(header: str, name: str) -> None:
    assert host_name(header) == name


def test_loopback_and_wildcard_addresses() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert is_loopback("api.localhost") and not is_loopback("10.0.0.1")
    assert not is_loopback("localhost.example")
    assert is_wildcard("0.0.0.0") and is_wildcard("::") and is_wildcard("")
    assert not is_wildcard("127.0.0.1") and not is_wildcard("example.com")


def test_names_are_served_only_when_known() -> None:
    check = HostCheck("127.0.0.1")
    assert check.allows("localhost:8081") and check.allows("127.0.0.1:8081")
    assert check.allows(None)  # HTTP/1.0: no browser sends that
    assert not check.allows("attacker.example:8081")
    named = HostCheck("registry.internal", allowed_hosts=("proxy.example", "*.corp.example"))
    assert named.allows("registry.internal:8081") and named.allows("PROXY.example")
    assert named.allows("a.b.corp.example") and not named.allows("corp.example.evil")
    assert HostCheck(allowed_hosts=("*",)).allows("anything.example")


@given(st.ip_addresses())
def test_every_ip_address_is_served(address: object) -> None:
    """A rebinding attack always carries a name: an address in `Host` cannot be one."""
    text = str(address)
    header = f"[{text}]:8081" if ":" in text else f"{text}:8081"
    assert HostCheck("127.0.0.1").allows(header)


@given(st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,10}){1,3}", fullmatch=True))
def test_unknown_names_are_refused(name: str) -> None:
    if name.endswith(".localhost"):
        return
    assert not HostCheck("127.0.0.1").allows(f"{name}:8081")
