"""Network failures in words a vendor or a site admin understands (the one rule for them).

`[Errno 111] Connection refused` means nothing to most people; "The server at
hooks.example.com refused the connection" does. Every place that calls out to
another server (descriptor polls, callbacks, webhooks: versions.fetch) says
its failures through `network_error_words`, so the pages, e-mails and the API
all show the same sentence.
"""

from __future__ import annotations

import errno
import re
import socket
import ssl

_ERRNO_RE = re.compile(r"\[Errno (-?\d+)\]")

# errno -> what happened, said about "the server at HOST"
_ERRNO_WORDS = {
    errno.ECONNREFUSED: "The server at {host} refused the connection: nothing accepts connections on that address and port.",
    errno.ECONNRESET: "The server at {host} closed the connection before it answered.",
    errno.ECONNABORTED: "The connection to the server at {host} was aborted.",
    errno.ETIMEDOUT: "The server at {host} did not answer in time.",
    errno.EHOSTUNREACH: "The server at {host} can't be reached from the marketplace (no route to it).",
    errno.ENETUNREACH: "The network of the server at {host} can't be reached from the marketplace.",
    errno.EPIPE: "The server at {host} closed the connection while the request was being sent.",
}
_DNS_ERRNOS = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", -5), socket.EAI_AGAIN, socket.EAI_FAIL}

_TEXT_WORDS = (
    ("connection refused", errno.ECONNREFUSED),
    ("connection reset", errno.ECONNRESET),
    ("timed out", errno.ETIMEDOUT),
    ("no route to host", errno.EHOSTUNREACH),
    ("network is unreachable", errno.ENETUNREACH),
)


def _causes(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def network_error_words(error: BaseException | str, host: str) -> str:
    """One sentence saying what went wrong reaching `host` (never a raw errno or exception name)."""
    chain = _causes(error) if isinstance(error, BaseException) else []
    for exc in chain:
        if isinstance(exc, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(exc):
            return f"The server at {host} presented a certificate that could not be verified (expired, self-signed or for another name)."
        if isinstance(exc, ssl.SSLError):
            return f"A secure (TLS) connection to the server at {host} could not be set up."
        if isinstance(exc, socket.gaierror) or (isinstance(exc, OSError) and exc.errno in _DNS_ERRNOS):
            return f"The name {host} could not be found: check the host name in the URL."
        if isinstance(exc, TimeoutError | socket.timeout):
            return _ERRNO_WORDS[errno.ETIMEDOUT].format(host=host)
        if isinstance(exc, OSError) and exc.errno in _ERRNO_WORDS:
            return _ERRNO_WORDS[exc.errno].format(host=host)
    text = " ".join(str(exc) for exc in chain) if chain else str(error)
    match = _ERRNO_RE.search(text)
    if match and int(match.group(1)) in _ERRNO_WORDS:
        return _ERRNO_WORDS[int(match.group(1))].format(host=host)
    lowered = text.lower()
    if "name or service not known" in lowered or "nodename nor servname" in lowered or "getaddrinfo" in lowered:
        return f"The name {host} could not be found: check the host name in the URL."
    for needle, code in _TEXT_WORDS:
        if needle in lowered:
            return _ERRNO_WORDS[code].format(host=host)
    if "server disconnected" in lowered or "remoteprotocolerror" in lowered or "peer closed" in lowered:
        return _ERRNO_WORDS[errno.ECONNRESET].format(host=host)
    return f"The server at {host} could not be reached."
