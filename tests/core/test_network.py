"""Network failures in words (core.network): no errno, no exception name in front of users."""

from __future__ import annotations

import errno
import socket
import ssl

import httpx
import pytest

from core.network import network_error_words


def raised_from(outer: Exception, inner: BaseException) -> Exception:
    try:
        try:
            raise inner
        except BaseException as exc:
            raise outer from exc
    except Exception as caught:
        return caught


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (
            ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
            "The server at hooks.example.com refused the connection",
        ),
        (
            raised_from(
                httpx.ConnectError("[Errno 111] Connection refused"),
                ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
            ),
            "refused the connection",
        ),
        (httpx.ConnectError("[Errno 111] Connection refused"), "refused the connection"),
        ("[Errno 111] Connection refused", "refused the connection"),
        (
            socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
            "The name hooks.example.com could not be found",
        ),
        (httpx.ConnectError("[Errno -2] Name or service not known"), "could not be found"),
        (TimeoutError("timed out"), "did not answer in time"),
        (ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"), "closed the connection"),
        (ssl.SSLCertVerificationError("certificate verify failed"), "certificate that could not be verified"),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), "closed the connection"),
        (RuntimeError("something odd"), "The server at hooks.example.com could not be reached."),
    ],
)
def test_network_failures_are_said_in_words(error, words):
    text = network_error_words(error, "hooks.example.com")
    assert words in text
    assert "Errno" not in text and "Error" not in text


def test_a_refused_poll_says_so_in_words(settings):
    """A real refused connection on 127.0.0.1 (a port nothing listens on), through versions.fetch."""
    from versions.fetch import FetchError, post_json

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens on it now
    with pytest.raises(FetchError) as caught:
        post_json(f"http://127.0.0.1:{port}/hook", b"{}", allow_loopback=True)
    assert caught.value.message.startswith("The server at 127.0.0.1 refused the connection"), caught.value.message
