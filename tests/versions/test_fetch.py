"""The descriptor fetcher against a real HTTP server on 127.0.0.1 (no mocks)."""

from __future__ import annotations

import ipaddress
import time

import pytest
from django.test import override_settings

from tests.http_servers import running
from versions import fetch
from versions.fetch import FetchError, address_refusal, fetch_descriptor

BODY = '{"key": "my-app", "scopes": ["read"]}'


def test_200_returns_body_etag_and_sends_the_bot_user_agent(descriptor_server):
    url = descriptor_server.serve(
        "/d.json", BODY, etag='"v1"', headers={"Last-Modified": "Sat, 21 Nov 2026 09:00:00 GMT"}
    )
    with override_settings(PORTAL_BOT_USER_AGENT="TestPortalBot/9 (+http://portal.test/bot)"):
        result = fetch_descriptor(url)
    assert result.status == 200
    assert result.body == BODY.encode()
    assert result.etag == '"v1"'
    assert result.last_modified == "Sat, 21 Nov 2026 09:00:00 GMT"
    request = descriptor_server.hits("/d.json")[0]
    assert request["headers"]["User-Agent"] == "TestPortalBot/9 (+http://portal.test/bot)"
    assert request["headers"]["Host"] == f"127.0.0.1:{descriptor_server.port}"


def test_conditional_get_gets_304(descriptor_server):
    url = descriptor_server.serve("/d.json", BODY, etag='"v1"')
    result = fetch_descriptor(url, etag='"v1"', last_modified="Sat, 21 Nov 2026 09:00:00 GMT")
    assert result.not_modified
    assert result.body == b""
    headers = descriptor_server.hits("/d.json")[0]["headers"]
    assert headers["If-None-Match"] == '"v1"'
    assert headers["If-Modified-Since"] == "Sat, 21 Nov 2026 09:00:00 GMT"


def test_500_is_an_http_error(descriptor_server):
    url = descriptor_server.serve("/broken", "oops", status=500)
    with pytest.raises(FetchError) as exc:
        fetch_descriptor(url)
    assert exc.value.kind == fetch.HTTP_ERROR
    assert exc.value.status == 500
    assert "HTTP 500" in exc.value.message


def test_slow_server_times_out(descriptor_server):
    url = descriptor_server.serve("/slow", BODY, delay=2.0)
    started = time.monotonic()
    with pytest.raises(FetchError) as exc:
        fetch_descriptor(url, read_timeout=0.3)
    assert exc.value.kind == fetch.TIMEOUT
    assert time.monotonic() - started < 1.5


def test_dripping_server_hits_the_overall_deadline(descriptor_server):
    url = descriptor_server.serve("/drip", "x" * 100, drip=0.05)
    with pytest.raises(FetchError) as exc:
        fetch_descriptor(url, connect_timeout=0.2, read_timeout=0.3)
    assert exc.value.kind == fetch.TIMEOUT


def test_oversized_declared_body_is_refused(descriptor_server):
    url = descriptor_server.serve("/big", "x" * 5000)
    with pytest.raises(FetchError) as exc:
        fetch_descriptor(url, max_bytes=1000)
    assert exc.value.kind == fetch.TOO_LARGE
    assert "5000 bytes" in exc.value.message


def test_oversized_undeclared_body_is_cut_while_streaming(descriptor_server):
    url = descriptor_server.serve("/big-stream", "x" * 200_000, declare_length=False)
    with pytest.raises(FetchError) as exc:
        fetch_descriptor(url, max_bytes=1000)
    assert exc.value.kind == fetch.TOO_LARGE


def test_body_at_the_limit_is_accepted(descriptor_server):
    url = descriptor_server.serve("/exact", "x" * 1000)
    assert len(fetch_descriptor(url, max_bytes=1000).body) == 1000


def test_redirects_are_followed_and_checked(descriptor_server):
    descriptor_server.serve("/d.json", BODY)
    url = descriptor_server.redirect("/moved", "/d.json", status=301)
    result = fetch_descriptor(url)
    assert result.body == BODY.encode()
    assert result.url.endswith("/d.json")


@pytest.mark.parametrize(
    "target", ["http://10.0.0.1/x.json", "http://169.254.169.254/latest/meta-data/", "http://[::ffff:192.168.0.1]/"]
)
def test_redirect_to_a_refused_address_is_refused(descriptor_server, target):
    url = descriptor_server.redirect("/evil", target)
    with pytest.raises(FetchError) as exc:
        fetch_descriptor(url)
    assert exc.value.kind == fetch.REFUSED_ADDRESS


def test_redirect_to_loopback_is_refused_when_loopback_is_not_allowed(descriptor_server):
    with pytest.raises(FetchError) as exc:
        fetch_descriptor(descriptor_server.url("/d.json"), allow_loopback=False)
    assert exc.value.kind == fetch.REFUSED_ADDRESS
    assert "loopback" in exc.value.message
    assert descriptor_server.requests == []  # refused before connecting


def test_loopback_by_name_is_resolved_and_refused(descriptor_server):
    with pytest.raises(FetchError) as exc:
        fetch_descriptor(f"http://localhost:{descriptor_server.port}/d.json", allow_loopback=False)
    assert exc.value.kind == fetch.REFUSED_ADDRESS


def test_redirect_loop_stops(descriptor_server):
    url = descriptor_server.redirect("/loop", "/loop")
    with pytest.raises(FetchError) as exc:
        fetch_descriptor(url)
    assert exc.value.kind == fetch.TOO_MANY_REDIRECTS
    assert len(descriptor_server.hits("/loop")) == fetch.MAX_REDIRECTS + 1


@pytest.mark.parametrize("url", ["ftp://example.com/d.json", "file:///etc/passwd", "gopher://x/", "http:///nohost"])
def test_only_http_and_https_urls(url):
    with pytest.raises(FetchError) as exc:
        fetch_descriptor(url)
    assert exc.value.kind == fetch.BAD_URL


def test_redirect_to_another_scheme_is_refused(descriptor_server):
    url = descriptor_server.redirect("/to-file", "file:///etc/passwd")
    with pytest.raises(FetchError) as exc:
        fetch_descriptor(url)
    assert exc.value.kind == fetch.BAD_URL


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("8.8.8.8", None),
        ("2001:4860:4860::8888", None),
        ("127.0.0.1", "a loopback address"),
        ("::1", "a loopback address"),
        ("10.1.2.3", "a private address"),
        ("172.16.0.1", "a private address"),
        ("192.168.1.1", "a private address"),
        ("169.254.169.254", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("224.0.0.1", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("0.0.0.0", "an unspecified address"),
        ("240.0.0.1", "a private address"),  # class E (reserved), which Python counts as private
        ("100.64.0.1", "a non-public address"),
        ("::ffff:10.0.0.1", "a private address"),
        ("fc00::1", "a private address"),
    ],
)
def test_address_rules(address, refused):
    assert address_refusal(ipaddress.ip_address(address), allow_loopback=False) == refused


def test_loopback_setting_allows_only_loopback():
    assert address_refusal(ipaddress.ip_address("127.0.0.1"), allow_loopback=True) is None
    assert address_refusal(ipaddress.ip_address("10.0.0.1"), allow_loopback=True) == "a private address"


def test_unreachable_port_is_a_network_error():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(FetchError) as exc:
        fetch_descriptor(f"http://127.0.0.1:{port}/d.json")
    assert exc.value.kind == fetch.NETWORK


@pytest.fixture
def tls_server(tmp_path):
    """An HTTPS server on the address `localhost` resolves to, with a certificate for `localhost`."""
    import socket
    import ssl
    import subprocess
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    seen: dict = {}
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    def keep_sni(sock, name, ctx) -> None:
        seen.setdefault("sni", name)

    context.sni_callback = keep_sni

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            seen["host"] = self.headers["Host"]
            self.send_response(200)
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY.encode())

    family, _, _, _, address = socket.getaddrinfo("localhost", 0, type=socket.SOCK_STREAM)[0]

    class Server(ThreadingHTTPServer):
        address_family = family

    httpd = Server((address[0], 0), Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    client_context = ssl.create_default_context(cafile=str(cert))
    with running(httpd):
        yield httpd.server_address[1], client_context, seen


def test_https_goes_to_the_vetted_address_with_sni_and_the_certificate_checked(tls_server):
    port, trust, seen = tls_server
    result = fetch_descriptor(f"https://localhost:{port}/d.json", verify=trust)
    assert result.body == BODY.encode()
    assert seen == {"sni": "localhost", "host": f"localhost:{port}"}
    # Without trusting the test CA the certificate check fails: it is not switched off.
    with pytest.raises(FetchError) as exc:
        fetch_descriptor(f"https://localhost:{port}/d.json")
    assert exc.value.kind == fetch.NETWORK
