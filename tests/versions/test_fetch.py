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


# --- the overall deadline and compressed bodies, against raw sockets on 127.0.0.1 -------------


class RawServer:
    """A TCP server on 127.0.0.1 whose answer is written by a function of the socket (one thread per client)."""

    def __init__(self, answer):
        import socket
        import threading

        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.answer = answer
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        import threading

        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn) -> None:
        with conn:
            conn.settimeout(5)
            try:
                conn.recv(65536)  # the request
                self.answer(conn, self.stop)
            except OSError:
                pass  # the client gave up: what the deadline tests want

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=2)
        self.sock.close()


@pytest.fixture
def raw_server():
    servers = []

    def start(answer):
        server = RawServer(answer)
        servers.append(server)
        return f"http://127.0.0.1:{server.port}/d.json"

    yield start
    for server in servers:
        server.close()


def test_trickled_headers_hit_the_overall_deadline(raw_server):
    def trickle_headers(conn, stop):
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        for _ in range(200):  # a header byte every 50 ms: each read succeeds well within read_timeout
            if stop.wait(0.05):
                return
            conn.sendall(b"X")

    url = raw_server(trickle_headers)
    started = time.monotonic()
    with pytest.raises(FetchError) as exc:
        fetch_descriptor(url, connect_timeout=0.2, read_timeout=0.4)
    elapsed = time.monotonic() - started
    assert exc.value.kind == fetch.TIMEOUT
    # The deadline is connect + 2 x read = 1.0 s; without it the trickle would last 10 s.
    assert elapsed < 2.5, elapsed


def _respond(conn, body: bytes, headers: dict[str, str]) -> None:
    head = "".join(f"{k}: {v}\r\n" for k, v in {"Content-Length": str(len(body)), **headers}.items())
    conn.sendall(b"HTTP/1.1 200 OK\r\n" + head.encode() + b"Connection: close\r\n\r\n" + body)


def test_a_gzip_bomb_is_refused_without_decoding_it_in_memory(raw_server):
    import gzip
    import tracemalloc

    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9)  # 64 MiB of zeros in about 64 KiB
    assert len(bomb) < 200 * 1024
    url = raw_server(lambda conn, stop: _respond(conn, bomb, {"Content-Encoding": "gzip"}))
    tracemalloc.start()
    try:
        with pytest.raises(FetchError) as exc:
            fetch_descriptor(url, max_bytes=1024 * 1024)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert exc.value.kind == fetch.TOO_LARGE
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes while refusing a 64 MiB bomb with a 1 MiB limit"


def test_gzip_and_deflate_bodies_are_decoded(raw_server):
    import gzip
    import zlib

    gz = raw_server(lambda conn, stop: _respond(conn, gzip.compress(BODY.encode()), {"Content-Encoding": "gzip"}))
    assert fetch_descriptor(gz).body == BODY.encode()
    deflated = raw_server(
        lambda conn, stop: _respond(conn, zlib.compress(BODY.encode()), {"Content-Encoding": "deflate"})
    )
    assert fetch_descriptor(deflated).body == BODY.encode()


def test_a_body_that_is_not_what_its_encoding_says_is_an_http_error(raw_server):
    url = raw_server(lambda conn, stop: _respond(conn, b"not gzip at all", {"Content-Encoding": "gzip"}))
    with pytest.raises(FetchError) as exc:
        fetch_descriptor(url)
    assert exc.value.kind == fetch.HTTP_ERROR
    assert "gzip" in exc.value.message
    unknown = raw_server(lambda conn, stop: _respond(conn, b"{}", {"Content-Encoding": "br"}))
    with pytest.raises(FetchError) as exc:
        fetch_descriptor(unknown)
    assert "unsupported Content-Encoding: br" in exc.value.message


def test_the_request_asks_only_for_encodings_the_fetcher_can_bound(descriptor_server):
    url = descriptor_server.serve("/d.json", BODY)
    fetch_descriptor(url)
    assert descriptor_server.hits("/d.json")[0]["headers"]["Accept-Encoding"] == "gzip, deflate"


def test_the_default_user_agent_is_marketplacebot_with_the_portal_address(descriptor_server, settings):
    """The seed tells vendors to search their access logs for `Marketplacebot`."""
    url = descriptor_server.serve("/d.json", BODY)
    fetch_descriptor(url)
    user_agent = descriptor_server.hits("/d.json")[0]["headers"]["User-Agent"]
    assert user_agent == f"Marketplacebot/1.0 (+{settings.PORTAL_BASE_URL})"
    assert "Marketplacebot" in user_agent.split("/")[0]


# --- POST for callbacks and webhooks -----------------------------------------------------


def test_post_json_refuses_private_addresses_without_connecting():
    from versions.fetch import post_json

    for url, kind in [
        ("http://10.0.0.5/hook", fetch.REFUSED_ADDRESS),
        ("http://[::1]:9/hook", fetch.REFUSED_ADDRESS),
        ("file:///etc/passwd", fetch.BAD_URL),
    ]:
        with pytest.raises(FetchError) as exc:
            post_json(url, b"{}", allow_loopback=False)
        assert exc.value.kind == kind, url


def test_post_json_does_not_follow_redirects_and_cuts_off_huge_answers(app_server):
    from versions.fetch import post_json

    app_server.statuses["/moved"] = 302
    moved = post_json(app_server.url("/moved"), b"{}")
    assert moved.status == 302 and [c["path"] for c in app_server.calls] == ["/moved"]
    app_server.answers["/huge"] = b"y" * (30 * 1024 * 1024)
    started = time.monotonic()
    huge = post_json(app_server.url("/huge"), b"{}", keep_bytes=100, max_bytes=64 * 1024)
    assert huge.truncated and huge.body == b"y" * 100 and time.monotonic() - started < 5


def test_url_refusal_names_the_rule():
    from versions.fetch import url_refusal

    assert url_refusal("https://hooks.example.com/x", allow_loopback=False) is None
    assert "private address" in url_refusal("http://172.16.0.1/x", allow_loopback=False)
    assert "localhost" in url_refusal("http://localhost:8000/x", allow_loopback=False)
    assert "Only http and https" in url_refusal("javascript:alert(1)", allow_loopback=False)
    assert url_refusal("http://127.0.0.1:9/x", allow_loopback=True) is None
