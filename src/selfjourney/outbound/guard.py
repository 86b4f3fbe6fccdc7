"""The outbound-URL policy (SSRF guard) for webhooks, callbacks and fetched images.

Two layers: ``check_url`` refuses obviously unsafe URLs when a job is submitted, naming the
field the caller sent; ``guarded_client`` re-checks every address a host resolves to at
connect time, then connects to that very address, so a DNS answer that changes between check
and use cannot slip through. A refusal at connect time names the host, not a field: one client
serves every kind of URL, and its caller says which one it was.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from urllib.parse import unquote

import httpcore
import httpx

from selfjourney.domain.errors import UnsafeUrl

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[IPAddress]]

_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_HOST_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?")
_LEGACY_PART = re.compile(r"0x[0-9a-f]*|0[0-7]*|[1-9][0-9]*", re.IGNORECASE)

# Ranges that are not globally routable but that some Python versions' ``is_global`` misses.
_NON_PUBLIC = tuple(
    ipaddress.ip_network(net)
    for net in (
        "100.64.0.0/10",  # carrier-grade NAT
        "192.0.0.0/24",  # IETF protocol assignments
        "198.18.0.0/15",  # benchmarking
        "fec0::/10",  # deprecated site-local
        "64:ff9b:1::/48",  # local-use NAT64
        "3fff::/20",  # documentation (RFC 9637)
    )
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def is_public_address(ip: IPAddress) -> bool:
    """True only for global unicast; IPv4 embedded in IPv6 (mapped, 6to4, NAT64) is judged as v4."""
    embedded = _embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else None
    if embedded is not None:
        return is_public_address(embedded)
    special = (
        ip.is_private,
        ip.is_loopback,
        ip.is_link_local,
        ip.is_multicast,
        ip.is_reserved,
        ip.is_unspecified,
        isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local,
        any(ip.version == net.version and ip in net for net in _NON_PUBLIC),
    )
    return ip.is_global and not any(special)


#: Added to each refusal at submission that the development setting would lift.
DEVELOPMENT_HINT = (
    " (for development, SELFJOURNEY_ALLOW_PRIVATE_URLS=1 allows http:// and private or "
    "loopback addresses)"
)


def check_url(url: str, allow_private: bool, *, field: str) -> None:
    """Refuse, at submission time, a URL that is not http(s) or names a non-public host.

    Host names are only judged by spelling here; their addresses are checked at connect time.
    A refusal that ``allow_private`` would lift names that setting.
    """
    parsed = _parse(url, field)
    if parsed.scheme not in ("http", "https"):
        raise UnsafeUrl(f"{field} must be an http:// or https:// URL", field=field)
    if parsed.scheme != "https" and not allow_private:
        raise UnsafeUrl(f"{field} must use https://{DEVELOPMENT_HINT}", field=field)
    host = _host(parsed, field)
    if not allow_private:
        try:
            _check_public_host(host, field)
        except UnsafeUrl as exc:
            raise UnsafeUrl(exc.message + DEVELOPMENT_HINT, field=field) from None


def ip_literal(host: str) -> IPAddress | None:
    """The address a host spelled as an IP literal means, including legacy forms like ``127.1``."""
    host = host.removeprefix("[").removesuffix("]").rstrip(".")
    try:
        return ipaddress.ip_address(unquote(host))
    except ValueError:
        return _legacy_ipv4(host)


def resolve_host(host: str, port: int) -> list[IPAddress]:
    """Every address the system resolver gives for ``host``, in its order, without duplicates."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:  # UnicodeError: a name the resolver cannot encode
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
    addresses = (ipaddress.ip_address(info[4][0]) for info in infos)
    return list(dict.fromkeys(addresses))


class GuardedBackend(httpcore.NetworkBackend):
    """Resolves, checks every address, then connects to a checked address (never re-resolves).

    TLS is unaffected: httpcore hands the original host name to ``start_tls`` for SNI and
    certificate checks, whatever address the socket was connected to.
    """

    def __init__(
        self,
        allow_private: bool,
        *,
        resolve: Resolver = resolve_host,
        inner: httpcore.NetworkBackend | None = None,
    ) -> None:
        self._allow_private = allow_private
        self._resolve = resolve
        self._inner = inner if inner is not None else httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = self._resolve(host, port)
        if not addresses:
            raise httpcore.ConnectError(f"{host} resolves to no address")
        if not self._allow_private:
            self._refuse_non_public(host, addresses)
        error: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for ip in addresses:
            try:
                return self._inner.connect_tcp(
                    str(ip), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise UnsafeUrl("unix sockets are not allowed for outbound requests")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)

    def _refuse_non_public(self, host: str, addresses: list[IPAddress]) -> None:
        for ip in addresses:
            if not is_public_address(ip):
                raise UnsafeUrl(f"host {host} resolves to {_kind(ip)} address {ip}")


class GuardedTransport(httpx.HTTPTransport):
    """httpx's own transport, except that every new connection goes through a GuardedBackend."""

    def __init__(self, backend: GuardedBackend) -> None:
        ssl_context = httpx.create_ssl_context(trust_env=False)
        super().__init__(verify=ssl_context, trust_env=False)
        # httpx 0.28 takes no network backend, and HTTPTransport sends every request through
        # its private ``_pool``; replacing that pool keeps httpx's request and error mapping.
        # Fail closed if a later httpx stops keeping a ConnectionPool there.
        if not isinstance(getattr(self, "_pool", None), httpcore.ConnectionPool):
            raise RuntimeError("httpx.HTTPTransport no longer keeps its pool in _pool")
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            network_backend=backend,
            max_connections=20,
            max_keepalive_connections=10,
            keepalive_expiry=5.0,
        )


def guarded_client(
    allow_private: bool, timeout: float, *, resolve: Resolver = resolve_host
) -> httpx.Client:
    """An httpx client that refuses non-public addresses at connect time and never redirects.

    Environment proxies and CA settings are ignored: a proxy would connect on our behalf,
    after the check. A refused address raises ``UnsafeUrl`` out of the request call.
    """
    transport = GuardedTransport(GuardedBackend(allow_private, resolve=resolve))
    return httpx.Client(
        transport=transport, timeout=timeout, follow_redirects=False, trust_env=False
    )


def _parse(url: str, field: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise UnsafeUrl(f"{field} is not a valid URL ({exc})", field=field) from exc
    if not parsed.is_absolute_url:
        raise UnsafeUrl(f"{field} must be an absolute http(s) URL", field=field)
    return parsed


def _host(parsed: httpx.URL, field: str) -> str:
    """The host as it will be connected to (IDNA-encoded); userinfo is never echoed."""
    host = parsed.raw_host.decode("ascii").lower()
    if not host:
        raise UnsafeUrl(f"{field} must include a host", field=field)
    if ip_literal(host) is None:
        if not _HOST_NAME.fullmatch(host):
            raise UnsafeUrl(f"{field} has an invalid host name", field=field)
        _check_encodable(parsed, host, field)
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise UnsafeUrl(f"{field} has an invalid port {parsed.port}", field=field)
    return host


def _check_encodable(parsed: httpx.URL, host: str, field: str) -> None:
    """A name both the resolver and the Host header can spell: labels of at most 63
    characters, 253 in all, and ``xn--`` labels that are valid IDNA."""
    name = host.rstrip(".")
    if len(name) > 253 or any(len(label) > 63 for label in name.split(".")):
        raise UnsafeUrl(f"{field} has a host name longer than DNS allows", field=field)
    try:
        parsed.host  # noqa: B018 - decoding the IDNA labels is the check
    except (UnicodeError, ValueError):
        raise UnsafeUrl(f"{field} has a host name that is not valid IDNA", field=field) from None


def _check_public_host(host: str, field: str) -> None:
    name = host.rstrip(".")
    if name in _LOCAL_NAMES or name.endswith(".localhost"):
        raise UnsafeUrl(f"{field} points to a local host name ({name})", field=field)
    ip = ip_literal(host)
    if ip is not None and not is_public_address(ip):
        raise UnsafeUrl(f"{field} points to {_kind(ip)} address ({ip})", field=field)


def _kind(ip: IPAddress) -> str:
    """A phrase naming why an address is refused, for messages people read."""
    if isinstance(ip, ipaddress.IPv6Address):
        ip = _embedded_ipv4(ip) or ip
    if ip.is_loopback:
        return "a loopback"
    if ip.is_link_local:
        return "a link-local (cloud metadata)"
    if ip.is_multicast:
        return "a multicast"
    if ip.is_unspecified:
        return "an unspecified"
    return "a private or reserved"


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _legacy_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """Parse what inet_aton accepts: 1-4 dot parts in decimal, octal (0..) or hex (0x..)."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(_LEGACY_PART.fullmatch(p) for p in parts):
        return None
    numbers = [_legacy_number(p) for p in parts]
    *leading, last = numbers
    if any(n > 255 for n in leading) or last >= 256 ** (5 - len(numbers)):
        return None
    value = last
    for index, number in enumerate(leading):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _legacy_number(part: str) -> int:
    if part[:2].lower() == "0x":
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8)
    return int(part)
