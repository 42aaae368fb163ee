"""Real HTTP servers on 127.0.0.1 for tests: one way to run them in a thread and stop
them, and the descriptor server that plays vendors' servers and an upstream portal.

`shutdown()` waits for `serve_forever` to notice it, which happens once per poll
interval (half a second by default): a short interval makes every test that starts
a server stop at once instead of idling for ~0.5 s.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import BaseServer

POLL_INTERVAL = 0.01  # seconds between serve_forever's checks for shutdown()


@contextmanager
def running(httpd: BaseServer) -> Iterator[BaseServer]:
    """Serve in a daemon thread while the block runs, then stop and close the server."""
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": POLL_INTERVAL}, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    etag: str = ""
    delay: float = 0.0  # before the answer
    drip: float = 0.0  # between bytes of the body
    declare_length: bool = True


@dataclass
class DescriptorServer:
    """Serves descriptors the way vendors' servers do (200 with ETag, 304, errors, slow and
    oversized answers, redirects), for the fetcher, the polling services, the mirror and
    the Celery worker tests."""

    host: str = "127.0.0.1"
    port: int = 0
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[dict] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def serve(self, path: str, body: str | bytes = b"", *, status: int = 200, **kwargs) -> str:
        self.routes[path] = Route(status=status, body=body.encode() if isinstance(body, str) else body, **kwargs)
        return self.url(path)

    def redirect(self, path: str, location: str, status: int = 302) -> str:
        return self.serve(path, status=status, headers={"Location": location})

    def hits(self, path: str) -> list[dict]:
        return [r for r in self.requests if r["path"] == path]


@contextmanager
def descriptor_server_running() -> Iterator[DescriptorServer]:
    server = DescriptorServer()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers go out line by line: without this, Nagle + delayed ACK add ~40 ms to every answer.
        disable_nagle_algorithm = True

        def log_message(self, *args) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:
            server.requests.append({"path": self.path, "headers": dict(self.headers)})
            route = server.routes.get(self.path)
            if route is None:
                route = Route(status=404, body=b"not found")
            if route.delay:
                time.sleep(route.delay)
            if route.etag and self.headers.get("If-None-Match") == route.etag:
                self.send_response(304)
                self.send_header("ETag", route.etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(route.status)
            for name, value in route.headers.items():
                self.send_header(name, value)
            if route.etag:
                self.send_header("ETag", route.etag)
            self.send_header("Content-Type", "application/json")
            if route.declare_length:
                self.send_header("Content-Length", str(len(route.body)))
            else:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            try:
                if route.drip:
                    for i in range(len(route.body)):
                        self.wfile.write(route.body[i : i + 1])
                        self.wfile.flush()
                        time.sleep(route.drip)
                else:
                    self.wfile.write(route.body)
            except (BrokenPipeError, ConnectionResetError):
                pass

    httpd = ThreadingHTTPServer((server.host, 0), Handler)
    httpd.daemon_threads = True
    httpd.handle_error = lambda request, client_address: None  # clients that time out on purpose
    server.port = httpd.server_address[1]
    with running(httpd):
        yield server


@dataclass
class AppServer:
    """Plays a vendor's app and webhook receiver: takes POSTs, checks each one the way a real app
    would, and answers 500 on purpose for the first `fail_first[path]` calls of a path.

    Lifecycle calls: the JWT in `Authorization: JWT <token>` is verified with PyJWT (HS256) with
    the installation's shared secret, which the app learns from the `installed` payload (kept in
    `secrets` by clientKey/installationId); iss, iat, exp and qsh (SHA-256 of "POST&<path>&")
    are checked. Webhooks: the Standard Webhooks signature over "<id>.<timestamp>.<body>" with
    `webhook_secret` (base64 after "whsec_"). Every call is recorded with `verified` and `problem`.
    """

    host: str = "127.0.0.1"
    port: int = 0
    issuer: str = "marketplace-portal"
    webhook_secret: str = ""
    fail_first: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)  # a fixed answer for a path
    answers: dict[str, bytes] = field(default_factory=dict)  # a fixed body for a path (e.g. 30 MB)
    stall: dict[str, float] = field(default_factory=dict)  # seconds to wait before answering a path
    secrets: dict[str, str] = field(default_factory=dict)
    calls: list[dict] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def hits(self, path: str) -> list[dict]:
        return [c for c in self.calls if c["path"] == path]

    def check(self, path: str, headers: dict, raw: bytes) -> tuple[bool, str]:
        import base64
        import hashlib
        import hmac
        import json

        import jwt

        if "webhook-id" in headers:
            try:
                key = base64.b64decode(self.webhook_secret.removeprefix("whsec_"))
                signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + raw
                expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
            except Exception as exc:
                return False, f"bad webhook headers: {exc}"
            if expected not in headers.get("webhook-signature", "").split():
                return False, "webhook signature mismatch"
            return True, ""
        try:
            body = json.loads(raw)
        except ValueError:
            return False, "body is not JSON"
        client = f"{body.get('clientKey')}/{body.get('installationId')}"
        if body.get("eventType") == "installed" and body.get("sharedSecret"):
            self.secrets[client] = body["sharedSecret"]
        secret = self.secrets.get(client)
        auth = headers.get("Authorization", "")
        if not secret:
            return False, "no shared secret known for this installation"
        if not auth.startswith("JWT "):
            return False, "no JWT"
        try:
            claims = jwt.decode(
                auth[4:],
                secret,
                algorithms=["HS256"],
                issuer=self.issuer,
                options={"require": ["iss", "iat", "exp", "qsh"]},
            )
        except jwt.PyJWTError as exc:
            return False, f"JWT refused: {exc}"
        qsh = hashlib.sha256(f"POST&{path.split('?')[0].rstrip('/') or '/'}&".encode()).hexdigest()
        if claims["qsh"] != qsh:
            return False, "qsh mismatch"
        return True, ""


@contextmanager
def app_server_running(**kwargs) -> Iterator[AppServer]:
    server = AppServer(**kwargs)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            headers = dict(self.headers)
            with lock:
                verified, problem = server.check(self.path, headers, raw)
                seen = len(server.hits(self.path))
                server.calls.append(
                    {"path": self.path, "headers": headers, "body": raw, "verified": verified, "problem": problem}
                )
                failing = seen < server.fail_first.get(self.path, 0)
            if self.path in server.stall:
                time.sleep(server.stall[self.path])
            status = server.statuses.get(self.path, 500 if failing or not verified else 200)
            answer = (
                (b'{"error": "failing on purpose"}' if failing else b'{"ok": true}') if verified else problem.encode()
            )
            answer = server.answers.get(self.path, answer)
            try:
                self.send_response(status)
                if status in (301, 302, 307, 308):
                    self.send_header("Location", server.url("/installed"))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the portal stopped reading (a huge answer is cut off)

    httpd = ThreadingHTTPServer((server.host, 0), Handler)
    httpd.daemon_threads = True
    httpd.handle_error = lambda request, client_address: None  # clients that give up on purpose
    server.port = httpd.server_address[1]
    with running(httpd):
        yield server
