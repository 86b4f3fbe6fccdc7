import ipaddress
import socket

import httpcore
import httpx
import pytest

from selfjourney.domain.errors import UnsafeUrl
from selfjourney.outbound.guard import (
    GuardedBackend,
    GuardedTransport,
    check_url,
    guarded_client,
    ip_literal,
    is_public_address,
    resolve_host,
)
from tests.receiver import WebhookReceiver

TIMEOUT = 2.0

REFUSED_ALWAYS = [
    ("ftp://example.com/hook", "must be an http:// or https:// URL"),
    ("javascript:alert(1)", "absolute"),
    ("garbage", "absolute"),
    ("/hook", "absolute"),
    ("", "absolute"),
    ("https:///hook", "absolute"),
    ("https:example.com", "absolute"),
    ("http://[::1", "not a valid URL"),
    ("https://exa mple.com/", "invalid host name"),
    ("https://example.com:99999/", "invalid port"),
]

REFUSED_UNLESS_PRIVATE = [
    ("http://example.com/hook", "must use https://"),
    ("http://127.0.0.1:8000/hook", "must use https://"),
    ("https://127.0.0.1/", "loopback address (127.0.0.1)"),
    ("https://127.1/", "(127.0.0.1)"),
    ("https://0x7f.1/", "(127.0.0.1)"),
    ("https://0x7F000001/", "(127.0.0.1)"),
    ("https://2130706433/", "(127.0.0.1)"),
    ("https://017700000001/", "(127.0.0.1)"),
    ("https://127.0.0.1./", "(127.0.0.1)"),
    ("https://[::1]/", "loopback address (::1)"),
    ("https://[::ffff:127.0.0.1]/", "loopback"),
    ("https://[::ffff:7f00:1]/", "loopback"),
    ("https://[::ffff:10.0.0.5]/", "private"),
    ("https://[2002:7f00:1::]/", "loopback"),  # 6to4 wrapping 127.0.0.1
    ("https://[64:ff9b::a00:5]/", "private"),  # NAT64 wrapping 10.0.0.5
    ("https://169.254.169.254/latest/meta-data/", "link-local (cloud metadata)"),
    ("https://[fe80::1%25eth0]/", "link-local"),
    ("https://10.0.0.5/", "private or reserved address (10.0.0.5)"),
    ("https://172.16.3.4/", "private"),
    ("https://192.168.1.1/", "private"),
    ("https://100.64.0.1/", "private"),  # carrier-grade NAT
    ("https://192.0.2.10/", "private"),  # documentation
    ("https://[2001:db8::1]/", "private"),  # documentation
    ("https://[fd12:3456::1]/", "private"),  # unique local
    ("https://[fec0::1]/", "private"),  # site-local
    ("https://0.0.0.0/", "unspecified"),
    ("https://0/", "unspecified"),
    ("https://[::]/", "unspecified"),
    ("https://224.0.0.1/", "multicast"),
    ("https://[ff02::1]/", "multicast"),
    ("https://255.255.255.255/", "private"),
    ("https://localhost/", "local host name (localhost)"),
    ("https://LocalHost./hook", "local host name (localhost)"),
    ("https://api.localhost/", "local host name (api.localhost)"),
    ("https://ip6-localhost/", "local host name"),
]

ACCEPTED_ALWAYS = [
    "https://example.com/hook",
    "https://example.com./hook",
    "https://hooks.example.com:8443/a/b?c=d#e",
    "https://user:secret@example.com/hook",
    "https://bücher.de/hook",
    "https://93.184.216.34/hook",
    "https://8.8.8.8/",
    "https://[2606:4700:4700::1111]/",
    "https://[::ffff:8.8.8.8]/",
    "https://1.2.3.4.5/",  # not an address, so a name: judged when it resolves
]


@pytest.mark.parametrize(("url", "message"), REFUSED_ALWAYS + REFUSED_UNLESS_PRIVATE)
def test_check_url_refuses_without_allow_private(url, message):
    with pytest.raises(UnsafeUrl, match="^webhookUrl ") as caught:
        check_url(url, allow_private=False, field="webhookUrl")
    assert message in caught.value.message
    assert caught.value.field == "webhookUrl"


@pytest.mark.parametrize(("url", "message"), REFUSED_ALWAYS)
def test_check_url_refuses_garbage_even_with_allow_private(url, message):
    with pytest.raises(UnsafeUrl) as caught:
        check_url(url, allow_private=True, field="webhookUrl")
    assert message in caught.value.message


@pytest.mark.parametrize(("url", "_message"), REFUSED_UNLESS_PRIVATE)
def test_check_url_allow_private_accepts_local_targets(url, _message):
    check_url(url, allow_private=True, field="webhookUrl")


@pytest.mark.parametrize("url", ACCEPTED_ALWAYS)
@pytest.mark.parametrize("allow_private", [False, True])
def test_check_url_accepts_public_https(url, allow_private):
    check_url(url, allow_private=allow_private, field="webhookUrl")


def test_check_url_names_the_field_and_never_echoes_userinfo():
    with pytest.raises(UnsafeUrl) as caught:
        check_url("https://admin:hunter2@10.1.2.3/x", allow_private=False, field="imageUrl")
    assert caught.value.field == "imageUrl"
    assert caught.value.message.startswith("imageUrl points to")
    assert "hunter2" not in caught.value.message
    assert "admin" not in caught.value.message


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("93.184.216.34", True),
        ("2606:4700:4700::1111", True),
        ("::ffff:8.8.8.8", True),
        ("2002:808:808::1", True),  # 6to4 of 8.8.8.8
        ("64:ff9b::808:808", True),  # NAT64 of 8.8.8.8
        ("127.0.0.1", False),
        ("127.255.255.254", False),
        ("10.0.0.5", False),
        ("172.31.255.255", False),
        ("192.168.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("100.127.255.255", False),
        ("0.0.0.0", False),
        ("224.0.0.251", False),
        ("239.255.255.250", False),
        ("240.0.0.1", False),
        ("255.255.255.255", False),
        ("192.0.0.8", False),
        ("192.0.2.1", False),
        ("198.18.0.1", False),
        ("198.51.100.1", False),
        ("203.0.113.1", False),
        ("::", False),
        ("::1", False),
        ("::127.0.0.1", False),  # deprecated IPv4-compatible
        ("::ffff:127.0.0.1", False),
        ("::ffff:169.254.169.254", False),
        ("2002:a00:5::", False),  # 6to4 of 10.0.0.5
        ("64:ff9b::7f00:1", False),  # NAT64 of 127.0.0.1
        ("64:ff9b:1::1", False),  # local-use NAT64
        ("fe80::1", False),
        ("fec0::1", False),
        ("fc00::1", False),
        ("fd00:ec2::254", False),  # AWS IPv6 metadata
        ("ff02::1", False),
        ("2001:db8::1", False),
        ("3fff::1", False),
        ("2001::1", False),  # Teredo
        ("100::1", False),  # discard-only
    ],
)
def test_is_public_address(address, public):
    assert is_public_address(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize(
    "host",
    ["127.1", "0x7f.1", "0x7f.0.0.1", "017700000001", "0177.0.0.1", "2130706433", "10.1", "0"],
)
def test_ip_literal_reads_legacy_forms_like_inet_aton(host):
    assert ip_literal(host) == ipaddress.IPv4Address(socket.inet_aton(host))


@pytest.mark.parametrize("host", ["example.com", "1.2.3.4.5", "256.1.1.1", "0x1g.1", "08.1", ""])
def test_ip_literal_leaves_names_alone(host):
    assert ip_literal(host) is None


# --- connect-time checks -----------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_receiver():
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def receiver(shared_receiver):
    shared_receiver.reset()
    return shared_receiver


def test_guarded_client_refuses_local_receiver(receiver):
    with (
        guarded_client(allow_private=False, timeout=TIMEOUT) as client,
        pytest.raises(UnsafeUrl, match=r"resolves to a loopback address 127\.0\.0\.1"),
    ):
        client.post(receiver.url, content=b"{}")
    assert receiver.requests == []


def test_guarded_client_reaches_local_receiver_when_allowed(receiver):
    with guarded_client(allow_private=True, timeout=TIMEOUT) as client:
        response = client.post(receiver.url, content=b'{"ok":true}')
    assert response.status_code == 204
    [got] = receiver.wait_for(1)
    assert got.json == {"ok": True}


@pytest.mark.parametrize("host", ["localhost", "127.1", "[::ffff:127.0.0.1]"])
def test_guarded_client_checks_resolved_address_not_spelling(receiver, host):
    # check_url is bypassed on purpose: the client alone must refuse what the name resolves to.
    url = f"http://{host}:{receiver.port}/hook"
    with (
        guarded_client(allow_private=False, timeout=TIMEOUT) as client,
        pytest.raises(UnsafeUrl, match="resolves to a loopback address"),
    ):
        client.post(url, content=b"{}")
    assert receiver.requests == []


def test_guarded_client_allows_localhost_when_private_allowed(receiver):
    # localhost may resolve to ::1 first, where nothing listens; the next address is tried.
    with guarded_client(allow_private=True, timeout=TIMEOUT) as client:
        response = client.post(f"http://localhost:{receiver.port}/hook", content=b"{}")
    assert response.status_code == 204


def test_guarded_client_connects_to_the_checked_address(receiver):
    # "rebind.test" exists only in this resolver, so reaching the receiver proves that the
    # socket went to the address that was checked, with no second lookup.
    backend = GuardedBackend(True, resolve=lambda host, port: [ipaddress.ip_address("127.0.0.1")])
    with httpx.Client(transport=GuardedTransport(backend), trust_env=False) as client:
        response = client.post(f"http://rebind.test:{receiver.port}/hook", content=b"{}")
    assert response.status_code == 204
    [got] = receiver.wait_for(1)
    assert got.headers["host"] == f"rebind.test:{receiver.port}"


def test_guarded_client_ignores_environment_proxies(receiver, monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    with guarded_client(allow_private=True, timeout=TIMEOUT) as client:
        assert client.post(receiver.url, content=b"{}").status_code == 204


def test_guarded_client_does_not_follow_redirects(receiver):
    receiver.reply_with([302])
    with guarded_client(allow_private=True, timeout=TIMEOUT) as client:
        response = client.post(receiver.url, content=b"{}")
    assert response.status_code == 302
    assert len(receiver.requests) == 1


class RecordingBackend(httpcore.NetworkBackend):
    """Stands in for the socket layer to show which address a connection was made to."""

    def __init__(self, refuse=()):
        self.calls: list[tuple[str, int]] = []
        self._refuse = set(refuse)

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        self.calls.append((host, port))
        if host in self._refuse:
            raise httpcore.ConnectError(f"refused by {host}")
        return httpcore.NetworkStream()


def _resolving_to(*addresses):
    return lambda host, port: [ipaddress.ip_address(a) for a in addresses]


def test_backend_refuses_if_any_resolved_address_is_private():
    inner = RecordingBackend()
    backend = GuardedBackend(False, resolve=_resolving_to("93.184.216.34", "10.0.0.5"), inner=inner)
    with pytest.raises(UnsafeUrl, match=r"^host mixed\.test resolves to .* 10\.0\.0\.5"):
        backend.connect_tcp("mixed.test", 443)
    assert inner.calls == []


def test_backend_connects_to_resolved_public_address():
    inner = RecordingBackend()
    backend = GuardedBackend(False, resolve=_resolving_to("93.184.216.34"), inner=inner)
    backend.connect_tcp("example.test", 443, timeout=1.0)
    assert inner.calls == [("93.184.216.34", 443)]


def test_backend_falls_back_to_next_address():
    inner = RecordingBackend(refuse={"2606:4700::1"})
    backend = GuardedBackend(False, resolve=_resolving_to("2606:4700::1", "8.8.8.8"), inner=inner)
    backend.connect_tcp("dual.test", 443)
    assert inner.calls == [("2606:4700::1", 443), ("8.8.8.8", 443)]


def test_backend_reports_last_error_when_no_address_answers():
    inner = RecordingBackend(refuse={"8.8.8.8", "8.8.4.4"})
    backend = GuardedBackend(False, resolve=_resolving_to("8.8.8.8", "8.8.4.4"), inner=inner)
    with pytest.raises(httpcore.ConnectError, match="8.8.4.4"):
        backend.connect_tcp("down.test", 443)


def test_backend_refuses_unix_sockets():
    with pytest.raises(UnsafeUrl):
        GuardedBackend(True).connect_unix_socket("/run/docker.sock")


def test_resolve_host_uses_system_resolver():
    assert ipaddress.ip_address("127.0.0.1") in resolve_host("localhost", 80)
    with pytest.raises(httpcore.ConnectError, match="cannot resolve"):
        resolve_host("no-such-host.invalid", 80)
