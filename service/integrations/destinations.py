"""Where a webhook may send: public internet addresses only, unless allowed otherwise.

A webhook URL chosen by a key holder must not reach the service's own network (cloud
metadata at 169.254.169.254, a database on localhost, a 10.x neighbour): the delivery log
would turn the service into a port scanner. The address is checked when the webhook is
registered (a literal address, in any spelling: decimal `2130706433`, octal `0177.0.0.1`,
hex, IPv4-mapped IPv6 ...) and again at every delivery after name resolution, and the
delivery connects to the very address checked, so a DNS answer cannot change in between.
`allow_private_webhooks` (development, tests) lifts the rule.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

__all__ = ["Destination", "RefusedDestination", "check_url", "resolve_checked"]

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedDestination(ValueError):
    """A webhook URL that may not be sent to (the message says why)."""


@dataclass(frozen=True)
class Destination:
    """What a delivery connects to: `url` with the checked address in place of the name,
    the `host` header and TLS server name of the original."""

    url: str
    host: str


def literal_address(host: str) -> IpAddress | None:
    """The address a host written as a number stands for, in any spelling the resolver
    would accept; None for a name.

    >>> str(literal_address("2130706433")), str(literal_address("0177.0.0.1"))
    ('127.0.0.1', '127.0.0.1')
    >>> str(literal_address("::ffff:10.0.0.1")), literal_address("example.com")
    ('10.0.0.1', None)
    """
    text = host.strip("[]")
    try:
        found = ipaddress.ip_address(text.split("%")[0])
    except ValueError:
        try:  # inet_aton reads what the C resolver reads: 0x7f.1, 017700000001, 127.1
            found = ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    mapped = getattr(found, "ipv4_mapped", None) or getattr(found, "sixtofour", None)
    return mapped or found


def is_public(address: IpAddress) -> bool:
    """Globally routable unicast: not loopback, private, link-local, shared, reserved,
    multicast or unspecified."""
    return address.is_global and not address.is_multicast


def _refuse_address(address: IpAddress) -> None:
    if not is_public(address):
        raise RefusedDestination(f"{address} is not a public address (loopback, private, "
                                 "link-local, reserved and multicast ones are refused)")


def check_url(url: str, *, allow_private: bool) -> None:
    """Refuse a URL carrying credentials, or naming a non-public host by address or as
    localhost; a name is checked again, resolved, at each delivery."""
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        raise RefusedDestination("a webhook URL may not carry a user name or password")
    if allow_private:
        return
    host = (parts.hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        raise RefusedDestination(f"{host} is this machine")
    address = literal_address(host)
    if address is not None:
        _refuse_address(address)


def resolve_checked(url: str, *, allow_private: bool) -> Destination:
    """The delivery target: the host resolved once, each address checked, the URL
    rewritten to the first (so the connection goes where the check looked)."""
    check_url(url, allow_private=allow_private)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise RefusedDestination(f"cannot resolve {host}: {exc}") from None
    resolved = [str(info[4][0]) for info in infos]
    if not resolved:
        raise RefusedDestination(f"{host} resolves to no address")
    if not allow_private:
        for raw in resolved:
            _refuse_address(literal_address(raw) or ipaddress.ip_address(raw))
    first = resolved[0].split("%")[0]
    shown = f"[{first}]" if ":" in first else first
    netloc = f"{shown}:{parts.port}" if parts.port else shown
    return Destination(urlunsplit(parts._replace(netloc=netloc)), parts.netloc)
