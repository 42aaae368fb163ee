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
- connect and read timeouts plus an overall deadline (a server dripping a byte at
  a time can't hold a worker), and a size limit enforced while streaming;
- proxies from the environment are ignored (they would bypass the address check);
- the User-Agent names the portal's bot; ETag and Last-Modified make it a
  conditional GET.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
from django.conf import settings

MAX_REDIRECTS = 5
REDIRECT_CODES = (301, 302, 303, 307, 308)
ACCEPT = "application/json, application/yaml;q=0.9, text/yaml;q=0.9, */*;q=0.1"


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
            raise FetchError(NETWORK, f"The host {host!r} could not be resolved ({exc}).") from None
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
    headers = {"User-Agent": settings.PORTAL_BOT_USER_AGENT, "Accept": accept}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    timeout = httpx.Timeout(connect=connect_timeout, read=read_timeout, write=read_timeout, pool=connect_timeout)
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False, verify=verify) as client:
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
                raise FetchError(NETWORK, f"Could not fetch {current}: {exc}.", url=current) from None
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
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_bytes():  # decoded bytes: a gzip bomb counts at full size
            size += len(chunk)
            if size > max_bytes:
                raise FetchError(
                    TOO_LARGE, f"The {label} is larger than the limit of {max_bytes} bytes.", status=status, url=url
                )
            if time.monotonic() > deadline:
                raise FetchError(TIMEOUT, f"The {label} took too long to download.", status=status, url=url)
            chunks.append(chunk)
    except httpx.TimeoutException:
        raise FetchError(TIMEOUT, f"Timed out reading the {label}.", status=status, url=url) from None
    except httpx.HTTPError as exc:
        raise FetchError(NETWORK, f"The download of the {label} failed: {exc}.", status=status, url=url) from None
    return FetchResult(body=b"".join(chunks), **meta)
