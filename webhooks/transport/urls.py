"""Which URLs the wallet may POST webhooks to: the SSRF guard, shared by the API and the workers.

A webhook makes our server send a request wherever a client says, so an attacker could aim it at
the cloud metadata service, a database port on the private network or the machine's own admin
interfaces. The guard allows only http(s) to hosts whose every address is public. It runs when a
URL is given (registration, ``callback_url``) and again at delivery, where the connection is made
to the very addresses that were checked, so a DNS answer that changes in between (DNS rebinding)
cannot slip a private address through. ``allow_private`` (development, tests) turns the address
check off, not the scheme check.
"""

import ipaddress
import logging
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from ledger.errors import InvalidRequest

log = logging.getLogger(__name__)

MAX_URL_LENGTH = 2048
# The shape of every URL we accept, written so that Python and OpenAPI (ECMA) read it alike: http(s),
# a host name or IPv4 address (labels of letters, digits and inner hyphens; no IPv6 literal, no
# credentials), an optional port up to 65535, then printable ASCII without spaces.
_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PORT = "(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
URL_SHAPE = f"[Hh][Tt][Tt][Pp][Ss]?://{_LABEL}(?:\\.{_LABEL})*(?::{_PORT})?(?:[/?#][!-~]*)?"
# For the OpenAPI document; the code matches URL_PATTERN, which ends with \Z (``$`` would let a
# trailing newline through).
URL_SPEC_PATTERN = f"^{URL_SHAPE}$"
URL_PATTERN = re.compile(f"{URL_SHAPE}\\Z")
SCHEMES = {"http": 80, "https": 443}
# Cloud instance-metadata services. Most are link-local or private anyway; they are named so the
# intent is plain and so one that a Python version counts as global (192.0.0.192) is still refused.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeURL(InvalidRequest):
    def __init__(self, detail: str) -> None:
        super().__init__("unsafe_webhook_url", detail)


@dataclass(frozen=True)
class Target:
    """A checked URL split into what a connection needs."""

    scheme: str
    host: str
    port: int
    # What the Host header carries: the host as written, with the port unless it is the default.
    authority: str
    # Path and query; the fragment never leaves the client.
    path: str


def parse(url: str) -> Target:
    """Split ``url``, refusing anything that is not a plain http(s) URL with a host."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeURL(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if any(c.isspace() or not c.isprintable() for c in url):
        raise UnsafeURL("the URL contains whitespace or control characters")
    try:
        parts = urlsplit(url)
    except ValueError:  # a bracketed host that is no IP address: "http://[zz]/"
        raise UnsafeURL("the URL's host is malformed") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise UnsafeURL("only http and https URLs are allowed")
    if not parts.hostname:
        raise UnsafeURL("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeURL("credentials in the URL are not supported")
    try:
        port = parts.port or SCHEMES[scheme]
    except ValueError:
        raise UnsafeURL("the URL has an invalid port") from None
    if not URL_PATTERN.match(url):
        raise UnsafeURL("the URL must be http(s)://host[:port][/path], the host a name or an IPv4 address")
    host = parts.hostname
    authority = host if port == SCHEMES[scheme] else f"{host}:{port}"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme, host, port, authority, path)


def is_public(address: IPAddress) -> bool:
    """True if ``address`` is globally routable and no metadata service: the only kind we call."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return is_public(embedded)
    return address.is_global and not address.is_multicast and address not in METADATA_ADDRESSES


def resolve(target: Target, *, allow_private: bool) -> list[str]:
    """Addresses to connect to for ``target``; UnsafeURL if any of them is not public.

    All of them must pass, not just one: which one a client would use is not ours to predict.
    ``socket.gaierror`` (the name does not resolve) is left to the caller, for whom it may be
    a passing failure.
    """
    infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not allow_private:
        refused = [a for a in addresses if not is_public(ipaddress.ip_address(a))]
        if refused:
            # The addresses go to our log, never to the caller: naming them would let anyone who
            # can register a URL map our internal DNS.
            log.info("webhook host %s refused: it resolves to %s", target.host, ", ".join(refused))
            raise UnsafeURL(f"{target.host} resolves to a non-public address")
    return addresses


def check_url(url: str, *, allow_private: bool) -> Target:
    """Refuse, with the reason, a URL the wallet must never POST to; return it split."""
    target = parse(url)
    if allow_private:
        return target
    try:
        resolve(target, allow_private=False)
    except (socket.gaierror, UnicodeError):
        raise UnsafeURL(f"the host {target.host} does not resolve") from None
    return target


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, NAT64), which is where it really goes."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None
