"""Webhook destinations we are willing to call: public HTTPS addresses only.

A webhook URL is chosen by a tenant, so an unchecked one would let them make the notifier
call into its own network (server-side request forgery): the cloud metadata service at
169.254.169.254, a database on 10.x, an admin port on localhost. Refused: schemes other than
https (http only for an allowed loopback), credentials in the URL, hosts that do not resolve,
and any address that is loopback (unless allowed, for tests and local demos), link-local,
private, unique-local, unspecified, multicast, reserved or otherwise not globally routable.
Every address a host name resolves to must pass. Checked when a subscription is created and
again before each send (DNS may have changed since).

Host names are resolved, never trusted: a name that does not resolve is refused with a clear
message, and a literal public IP passes without DNS.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Iterable[str]]


class WebhookUrlRefused(ValueError):
    """A webhook URL we will not call; the message says precisely why."""


def resolve_host(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (the system resolver)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def validate_webhook_url(
    url: str, allow_loopback: bool = False, *, resolve: Resolver = resolve_host
) -> str:
    """`url` if it is a destination we may call; else raise WebhookUrlRefused."""
    if not isinstance(url, str) or not url.strip():
        raise WebhookUrlRefused("webhook URL is empty")
    if url != url.strip() or any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise WebhookUrlRefused("webhook URL must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise WebhookUrlRefused(f"webhook URL is malformed: {error}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        shown = scheme or "none"
        raise WebhookUrlRefused(f"webhook URL scheme {shown!r} is not allowed: use https")
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlRefused(
            "webhook URL must not contain credentials (user:password@): "
            "the signing secret authenticates each request"
        )
    host = parts.hostname
    if not host:
        raise WebhookUrlRefused("webhook URL has no host")
    plain_http_refused = WebhookUrlRefused(
        "webhook URL must use https (plain http is allowed only for loopback test receivers)"
    )
    if scheme == "http" and not allow_loopback:
        raise plain_http_refused
    port = port or (443 if scheme == "https" else 80)
    addresses = _addresses(host, port, resolve)
    for address in addresses:
        _check_address(host, address, allow_loopback)
    if scheme == "http" and not all(address.is_loopback for address in addresses):
        raise plain_http_refused
    return url


def _addresses(host: str, port: int, resolve: Resolver) -> list[IPAddress]:
    literal = _literal(host)
    if literal is not None:
        return [literal]
    if host.endswith(".") and len(host) > 1:
        host = host[:-1]
    try:
        found = [_literal(address) for address in resolve(host, port)]
    except (OSError, UnicodeError) as error:
        raise WebhookUrlRefused(
            f"webhook host {host!r} does not resolve ({error}); use a public host name or address"
        ) from None
    addresses = [address for address in found if address is not None]
    if not addresses:
        raise WebhookUrlRefused(f"webhook host {host!r} resolves to no address")
    return addresses


def _literal(host: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _check_address(host: str, address: IPAddress, allow_loopback: bool) -> None:
    shown = host if host == str(address) else f"{host} ({address})"
    if address.is_loopback:
        if allow_loopback:
            return
        raise WebhookUrlRefused(f"webhook host {shown} is a loopback address")
    if address.is_unspecified:
        raise WebhookUrlRefused(f"webhook host {shown} is the unspecified address")
    if address.is_link_local:
        raise WebhookUrlRefused(
            f"webhook host {shown} is a link-local address (169.254.0.0/16, fe80::/10), "
            "such as a cloud metadata service"
        )
    if address.is_multicast:
        raise WebhookUrlRefused(f"webhook host {shown} is a multicast address")
    if address.is_private:
        raise WebhookUrlRefused(
            f"webhook host {shown} is a private address "
            "(10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7 and the like)"
        )
    if address.is_reserved or not address.is_global:
        raise WebhookUrlRefused(f"webhook host {shown} is not a public internet address")
