"""Fetch a descriptor from a vendor's URL without letting the URL reach inside our network.

The vendor controls the URL, the DNS answers and every redirect, so:

- only http and https, at most MAX_REDIRECTS redirects, followed here (not by httpx),
  so each hop is checked again;
- the host name is resolved here and *every* address it resolves to must be a
  public one: private, loopback, link-local, multicast, reserved and unspecified
  addresses are refused (settings.DESCRIPTOR_ALLOW_LOOPBACK lets loopback through
  for development and tests). The connection then goes to the vetted address,
  with the Host header and TLS SNI (and certificate check) for the name, so a
  second DNS answer can't swap in another address (DNS rebinding);
- connect and read timeouts plus one overall deadline that covers everything:
  the connection, the response headers and the body. Every socket operation
  waits at most what is left of it (DeadlineBackend), so a server trickling its
  headers or its body a byte at a time can't hold a worker;
- a size limit on the *decoded* body, enforced while streaming: compressed
  bodies are decompressed here in bounded steps, so a gzip bomb is refused
  after at most the limit (plus one step) of memory;
- proxies from the environment are ignored (they would bypass the address check);
- the User-Agent names the portal's bot; ETag and Last-Modified make it a
  conditional GET.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import ssl
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpcore
import httpx
from django.conf import settings

from core.network import network_error_words

MAX_REDIRECTS = 5
REDIRECT_CODES = (301, 302, 303, 307, 308)
ACCEPT = "application/json, application/yaml;q=0.9, text/yaml;q=0.9, */*;q=0.1"
# Only what _Decoder can decode in bounded steps (no brotli/zstd, whose decoders have no output limit here).
ACCEPT_ENCODING = "gzip, deflate"


class FetchError(Exception):
    """The descriptor could not be fetched; `kind` is one of the FAILURE_KINDS."""

    def __init__(self, kind: str, message: str, *, status: int | None = None, url: str = ""):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status
        self.url = url


# Failure kinds, shown to vendors and recorded on every poll.
REFUSED_ADDRESS = "refused_address"
BAD_URL = "bad_url"
TIMEOUT = "timeout"
NETWORK = "network"
HTTP_ERROR = "http_error"
TOO_LARGE = "too_large"
TOO_MANY_REDIRECTS = "too_many_redirects"


@dataclass(frozen=True)
class FetchResult:
    url: str  # the final URL after redirects
    status: int
    body: bytes
    etag: str
    last_modified: str
    content_type: str

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def address_refusal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, *, allow_loopback: bool) -> str | None:
    """Why `ip` may not be fetched from, or None when it is a public address."""
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:
        ip = mapped
    if ip.is_loopback:
        return None if allow_loopback else "a loopback address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_private:
        return "a private address"
    if ip.is_reserved:
        return "a reserved address"
    if not ip.is_global:
        return "a non-public address"
    return None


def resolve_public(host: str, port: int, *, allow_loopback: bool) -> str:
    """Resolve `host` and return one address to connect to; refuse when any answer is not public.

    All answers are checked, not just the first: a name that resolves to both a
    public and a private address is refused.
    """
    try:
        literal = ipaddress.ip_address(host)
        infos = [str(literal)]
    except ValueError:
        try:
            answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise FetchError(NETWORK, network_error_words(exc, host)) from None
        infos = list(dict.fromkeys(a[4][0] for a in answers))
    if not infos:
        raise FetchError(NETWORK, f"The host {host!r} has no address.")
    for text in infos:
        ip = ipaddress.ip_address(text.split("%", 1)[0])
        why = address_refusal(ip, allow_loopback=allow_loopback)
        if why is not None:
            raise FetchError(REFUSED_ADDRESS, f"Refused to fetch from {host}: it resolves to {ip}, {why}.", url=host)
    return infos[0]


def _check_url(url: str, label: str = "descriptor") -> tuple[str, str, int]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchError(BAD_URL, f"The {label} URL {url!r} is invalid ({exc}).") from None
    if parts.scheme not in ("http", "https"):
        raise FetchError(BAD_URL, f"Only http and https {label} URLs are allowed, not {parts.scheme or 'none'!r}.")
    if not parts.hostname:
        raise FetchError(BAD_URL, f"The {label} URL {url!r} has no host.")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def _pinned_url(url: str, ip: str) -> str:
    """`url` with its host replaced by the vetted address (the port and path kept)."""
    parts = urlsplit(url)
    host = f"[{ip}]" if ":" in ip else ip
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))


def _host_header(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{parts.port}" if parts.port else host


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read and write waits at most until the deadline."""

    def __init__(self, stream: httpcore.NetworkStream, deadline: float):
        self._stream = stream
        self._deadline = deadline

    def _left(self, timeout: float | None) -> float:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise httpcore.ReadTimeout("the overall deadline passed")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._left(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._left(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(
            self._stream.start_tls(ssl_context, server_hostname, self._left(timeout)), self._deadline
        )

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's socket backend, with connecting, TLS, headers and body all bounded by one deadline."""

    def __init__(self, deadline: float):
        self._backend = httpcore.SyncBackend()
        self._deadline = deadline

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise httpcore.ConnectTimeout("the overall deadline passed")
        timeout = left if timeout is None else min(timeout, left)
        stream = self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
        return _DeadlineStream(stream, self._deadline)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


@functools.cache
def _default_ssl_context() -> ssl.SSLContext:
    """The system of trust httpx uses (certifi's CA bundle), built once per process.

    Loading the CA bundle costs tens of milliseconds; polling hundreds of
    listings paid that on every fetch. An SSLContext is safe to share between threads.
    """
    return httpx.create_ssl_context(verify=True, trust_env=False)


def _deadline_transport(deadline: float, verify: ssl.SSLContext | bool) -> httpx.HTTPTransport:
    transport = httpx.HTTPTransport(verify=_default_ssl_context() if verify is True else verify, trust_env=False)
    # httpx builds its httpcore pool without a way to pass a network backend; swap it in.
    pool = transport._pool
    if not isinstance(pool, httpcore.ConnectionPool) or not hasattr(pool, "_network_backend"):  # pragma: no cover
        raise RuntimeError("httpx/httpcore changed: the fetch deadline can't be enforced")
    pool._network_backend = DeadlineBackend(deadline)
    return transport


class _Decoder:
    """Content-Encoding decoding in steps of at most `limit + 1` output bytes (no bomb expands in memory)."""

    def __init__(self, encoding: str, *, label: str, url: str):
        codings = [c.strip().lower() for c in encoding.split(",") if c.strip() and c.strip().lower() != "identity"]
        if len(codings) > 1:
            raise FetchError(HTTP_ERROR, f"The {label} is encoded more than once ({encoding}).", url=url)
        self.coding = codings[0] if codings else ""
        if self.coding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self.coding == "deflate":
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 32)  # zlib-wrapped (what the standard says)
        elif self.coding:
            raise FetchError(HTTP_ERROR, f"The {label} uses an unsupported Content-Encoding: {self.coding}.", url=url)
        else:
            self._zlib = None
        self._label, self._url = label, url

    def decode(self, data: bytes, room: int) -> Iterable[bytes]:
        """Yield the decoded bytes of `data`, each piece at most `room + 1` bytes (the caller counts)."""
        if self._zlib is None:
            yield data
            return
        try:
            while data:
                out = self._zlib.decompress(data, room + 1)
                data = self._zlib.unconsumed_tail
                yield out
                if not out and data:  # pragma: no cover - zlib always makes progress when it has input
                    break
        except zlib.error as exc:
            raise FetchError(
                HTTP_ERROR, f"The {self._label} is not valid {self.coding} ({exc}).", url=self._url
            ) from None

    def finish(self) -> bytes:
        """What the decoder still holds once the body ended (small: the input is all consumed)."""
        return self._zlib.flush() if self._zlib is not None else b""


def fetch_descriptor(
    url: str,
    *,
    etag: str = "",
    last_modified: str = "",
    max_bytes: int | None = None,
    connect_timeout: float | None = None,
    read_timeout: float | None = None,
    allow_loopback: bool | None = None,
    verify: ssl.SSLContext | bool = True,
    extra_headers: dict[str, str] | None = None,
    accept: str = ACCEPT,
    label: str = "descriptor",
) -> FetchResult:
    """GET `url` safely; returns the 200 body or a 304, raises FetchError for anything else.

    `verify` is httpx's: certificates are always checked against the URL's host
    name; tests pass an SSLContext that trusts their own CA. `extra_headers`
    (credentials such as a mirror token) go only to the origin of `url`: a
    redirect to another origin is followed without them, like a browser drops
    Authorization. `label` names the document in error messages.
    """
    max_bytes = max_bytes if max_bytes is not None else settings.DESCRIPTOR_MAX_BYTES
    connect_timeout = connect_timeout if connect_timeout is not None else settings.DESCRIPTOR_CONNECT_TIMEOUT
    read_timeout = read_timeout if read_timeout is not None else settings.DESCRIPTOR_READ_TIMEOUT
    allow_loopback = settings.DESCRIPTOR_ALLOW_LOOPBACK if allow_loopback is None else allow_loopback
    deadline = time.monotonic() + connect_timeout + 2 * read_timeout
    headers = {"User-Agent": settings.PORTAL_BOT_USER_AGENT, "Accept": accept, "Accept-Encoding": ACCEPT_ENCODING}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    timeout = httpx.Timeout(connect=connect_timeout, read=read_timeout, write=read_timeout, pool=connect_timeout)
    transport = _deadline_transport(deadline, verify)
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False, transport=transport) as client:
        current = url
        origin = _origin(url)
        for _hop in range(MAX_REDIRECTS + 1):
            scheme, host, port = _check_url(current, label)
            ip = resolve_public(host, port, allow_loopback=allow_loopback)
            hop_headers = {**headers, **(extra_headers or {})} if _origin(current) == origin else headers
            request = client.build_request(
                "GET",
                _pinned_url(current, ip),
                headers={**hop_headers, "Host": _host_header(current)},
                extensions={"sni_hostname": host} if scheme == "https" else {},
            )
            try:
                response = client.send(request, stream=True)
            except httpx.TimeoutException:
                raise FetchError(TIMEOUT, f"Timed out connecting to or reading from {host}.", url=current) from None
            except httpx.HTTPError as exc:
                raise FetchError(NETWORK, network_error_words(exc, host), url=current) from None
            try:
                if response.status_code in REDIRECT_CODES:
                    location = response.headers.get("location")
                    if not location:
                        raise FetchError(
                            HTTP_ERROR,
                            f"HTTP {response.status_code} redirect without a Location.",
                            status=response.status_code,
                            url=current,
                        )
                    current = urljoin(current, location)
                    continue
                return _read(response, current, max_bytes=max_bytes, deadline=deadline, label=label)
            finally:
                response.close()
    raise FetchError(TOO_MANY_REDIRECTS, f"More than {MAX_REDIRECTS} redirects from {url}.", url=current)


def _origin(url: str) -> tuple[str, str, int | None]:
    try:
        parts = urlsplit(url)
        return parts.scheme, (parts.hostname or "").lower(), parts.port
    except ValueError:
        return "", "", None


def _read(
    response: httpx.Response, url: str, *, max_bytes: int, deadline: float, label: str = "descriptor"
) -> FetchResult:
    status = response.status_code
    meta = {
        "url": url,
        "status": status,
        "etag": response.headers.get("etag", "")[:255],
        "last_modified": response.headers.get("last-modified", "")[:64],
        "content_type": response.headers.get("content-type", "")[:255],
    }
    if status == 304:
        return FetchResult(body=b"", **meta)
    if status != 200:
        raise FetchError(HTTP_ERROR, f"The {label} URL answered HTTP {status}.", status=status, url=url)
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(
            TOO_LARGE,
            f"The {label} is {int(declared)} bytes; the limit is {max_bytes} bytes.",
            status=status,
            url=url,
        )
    decoder = _Decoder(response.headers.get("content-encoding", ""), label=label, url=url)
    chunks: list[bytes] = []
    size = 0
    try:
        # Raw bytes, decoded here in bounded steps and counted decoded: a gzip bomb stops at the limit.
        for raw in response.iter_raw():
            for chunk in decoder.decode(raw, max_bytes - size):
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError(
                        TOO_LARGE,
                        f"The {label} is larger than the limit of {max_bytes} bytes.",
                        status=status,
                        url=url,
                    )
                chunks.append(chunk)
            if time.monotonic() > deadline:
                raise FetchError(TIMEOUT, f"The {label} took too long to download.", status=status, url=url)
        tail = decoder.finish()
        if size + len(tail) > max_bytes:
            raise FetchError(
                TOO_LARGE, f"The {label} is larger than the limit of {max_bytes} bytes.", status=status, url=url
            )
        chunks.append(tail)
    except httpx.TimeoutException:
        raise FetchError(TIMEOUT, f"Timed out reading the {label}.", status=status, url=url) from None
    except httpx.HTTPError as exc:
        host = urlsplit(url).hostname or url
        raise FetchError(
            NETWORK, f"The download of the {label} failed: {network_error_words(exc, host)}", status=status, url=url
        ) from None
    return FetchResult(body=b"".join(chunks), **meta)


@dataclass(frozen=True)
class PostResult:
    url: str
    status: int
    body: bytes  # at most `keep_bytes` of the answer
    truncated: bool  # the answer was longer and was cut off


def post_json(
    url: str,
    body: bytes,
    *,
    headers: dict[str, str] | None = None,
    keep_bytes: int = 4096,
    max_bytes: int | None = None,
    connect_timeout: float | None = None,
    read_timeout: float | None = None,
    allow_loopback: bool | None = None,
    verify: ssl.SSLContext | bool = True,
    label: str = "callback",
) -> PostResult:
    """POST a JSON `body` to a vendor's URL with the same address, deadline and size rules as a GET.

    Redirects are not followed: a callback that answers 3xx is answered as it
    stands (the caller treats it as a failure), so no credential and no body is
    ever sent to a second address. The answer is read up to `max_bytes` and only
    its first `keep_bytes` are kept: a huge answer is cut off, never held in
    memory. Any HTTP status is returned (the caller decides what counts as
    delivered); only what stopped the exchange raises FetchError.
    """
    max_bytes = max_bytes if max_bytes is not None else 64 * 1024
    connect_timeout = connect_timeout if connect_timeout is not None else settings.DESCRIPTOR_CONNECT_TIMEOUT
    read_timeout = read_timeout if read_timeout is not None else settings.DESCRIPTOR_READ_TIMEOUT
    allow_loopback = settings.DESCRIPTOR_ALLOW_LOOPBACK if allow_loopback is None else allow_loopback
    deadline = time.monotonic() + connect_timeout + 2 * read_timeout
    scheme, host, port = _check_url(url, label)
    ip = resolve_public(host, port, allow_loopback=allow_loopback)
    sent = {
        "User-Agent": settings.PORTAL_BOT_USER_AGENT,
        "Content-Type": "application/json",
        "Accept": "application/json, */*;q=0.1",
        "Accept-Encoding": "identity",
        **(headers or {}),
        "Host": _host_header(url),
    }
    timeout = httpx.Timeout(connect=connect_timeout, read=read_timeout, write=read_timeout, pool=connect_timeout)
    transport = _deadline_transport(deadline, verify)
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False, transport=transport) as client:
        request = client.build_request(
            "POST",
            _pinned_url(url, ip),
            headers=sent,
            content=body,
            extensions={"sni_hostname": host} if scheme == "https" else {},
        )
        try:
            response = client.send(request, stream=True)
        except httpx.TimeoutException:
            raise FetchError(TIMEOUT, f"Timed out connecting to or waiting for {host}.", url=url) from None
        except httpx.HTTPError as exc:
            raise FetchError(NETWORK, network_error_words(exc, host), url=url) from None
        try:
            kept = bytearray()
            size = 0
            truncated = False
            try:
                for raw in response.iter_raw():
                    size += len(raw)
                    if len(kept) < keep_bytes:
                        kept += raw[: keep_bytes - len(kept)]
                    if size > max_bytes or time.monotonic() > deadline:
                        truncated = True
                        break
                truncated = truncated or size > len(kept)
            except httpx.TimeoutException:
                raise FetchError(
                    TIMEOUT, f"Timed out reading the answer of {host}.", status=response.status_code, url=url
                ) from None
            except httpx.HTTPError as exc:
                raise FetchError(
                    NETWORK,
                    f"The answer of {host} broke off: {network_error_words(exc, host)}",
                    status=response.status_code,
                    url=url,
                ) from None
            return PostResult(url=url, status=response.status_code, body=bytes(kept), truncated=truncated)
        finally:
            response.close()


def url_refusal(url: str, *, label: str = "URL", allow_loopback: bool | None = None) -> str | None:
    """Why a vendor's URL can never be called (not http(s), no host, a literal non-public address),
    or None. Host names are resolved when called (post_json checks every address then)."""
    allow_loopback = settings.DESCRIPTOR_ALLOW_LOOPBACK if allow_loopback is None else allow_loopback
    try:
        _check_url(url, label)
        host = urlsplit(url).hostname or ""
    except FetchError as exc:
        return exc.message
    if "@" in (urlsplit(url).netloc or ""):
        return f"The {label} must not carry a user name or password."
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        if host.lower() == "localhost" and not allow_loopback:
            return f"The {label} points to this machine (localhost)."
        return None
    why = address_refusal(ip, allow_loopback=allow_loopback)
    return f"The {label} points to {ip}, {why}: only public addresses can be called." if why else None
