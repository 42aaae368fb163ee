"""Signing what the portal sends to a vendor's app, and the retry schedule (pure: no database).

Lifecycle callbacks (installed, uninstalled, enabled, disabled, OCP's onUpgrade and
onFinalizeUpgrade) carry `Authorization: JWT <token>` the way Atlassian Connect
signs its requests: HS256 with the installation's shared secret (sent to the app
once, in the `installed` payload), claims `iss` (the portal), `iat`, `exp` and
`qsh`, the SHA-256 of the canonical request (method, path, sorted query) so a
token can't be replayed against another endpoint.

Vendor webhooks follow the Standard Webhooks conventions: headers `webhook-id`,
`webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256>` over
"<id>.<timestamp>.<body>", keyed with the base64 part of a `whsec_` secret.
During a secret rotation both the new and the previous secret sign (the header
holds two signatures separated by a space), so a receiver can switch over.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import secrets
from collections.abc import Iterable
from datetime import datetime
from urllib.parse import parse_qsl, quote, urlsplit

import jwt

JWT_ALGORITHM = "HS256"
WEBHOOK_SECRET_PREFIX = "whsec_"


def shared_secret_new() -> str:
    """A per-installation secret for HS256 (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def _encode(text: str) -> str:
    return quote(text, safe="~-_.")


def canonical_request(method: str, url: str, base_url: str = "") -> str:
    """Connect's canonical request: METHOD&path&query; the path is relative to the app's baseUrl."""
    parts = urlsplit(url)
    path = parts.path or "/"
    base_path = urlsplit(base_url).path.rstrip("/") if base_url else ""
    if base_path and path.startswith(base_path):
        path = path[len(base_path) :] or "/"
    if len(path) > 1:
        path = path.rstrip("/")
    if not path.startswith("/"):
        path = "/" + path
    pairs: dict[str, list[str]] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name != "jwt":
            pairs.setdefault(name, []).append(value)
    query = "&".join(
        f"{_encode(name)}={','.join(_encode(v) for v in sorted(values))}" for name, values in sorted(pairs.items())
    )
    return f"{method.upper()}&{path.replace('&', '%26')}&{query}"


def query_string_hash(method: str, url: str, base_url: str = "") -> str:
    return hashlib.sha256(canonical_request(method, url, base_url).encode()).hexdigest()


def lifecycle_token(
    *, secret: str, issuer: str, method: str, url: str, base_url: str = "", now: datetime, lifetime: int = 180
) -> str:
    """The JWT of one call; a retry gets a fresh one (its own iat/exp), the delivery id stays."""
    issued = int(now.timestamp())
    claims = {
        "iss": issuer,
        "iat": issued,
        "exp": issued + lifetime,
        "qsh": query_string_hash(method, url, base_url),
    }
    return jwt.encode(claims, secret, algorithm=JWT_ALGORITHM)


def webhook_secret_new() -> str:
    return WEBHOOK_SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _webhook_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(WEBHOOK_SECRET_PREFIX))


def webhook_signature(*, secrets_: Iterable[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header: one `v1,<sig>` per secret, space separated."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    signatures = []
    for secret in secrets_:
        if not secret:
            continue
        digest = hmac.new(_webhook_key(secret), signed, hashlib.sha256).digest()
        signatures.append("v1," + base64.b64encode(digest).decode())
    return " ".join(signatures)


def webhook_signature_valid(*, secret: str, msg_id: str, timestamp: int, body: bytes, header: str) -> bool:
    expected = webhook_signature(secrets_=[secret], msg_id=msg_id, timestamp=timestamp, body=body)
    return any(hmac.compare_digest(expected, sig) for sig in header.split())


def retry_delay(attempt: int, *, base_seconds: float, rng: random.Random | None = None) -> float:
    """Seconds before attempt `attempt + 1`: exponential (base, 2 base, 4 base, ...) with ±20 % jitter,
    so a vendor's outage is not answered by all its deliveries retrying at the same second."""
    rng = rng or random.SystemRandom()
    return base_seconds * (2 ** max(attempt - 1, 0)) * rng.uniform(0.8, 1.2)
