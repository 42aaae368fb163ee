"""Signing callbacks and webhooks (pure): checked with PyJWT and an independent HMAC."""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
from datetime import UTC, datetime

import jwt
import pytest

from upgrades import signing

NOW = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)


def test_lifecycle_token_verifies_with_pyjwt_and_carries_the_claims():
    secret = signing.shared_secret_new()
    token = signing.lifecycle_token(
        secret=secret, issuer="portal", method="POST", url="https://app.example.com/hooks/installed?b=2&a=1", now=NOW
    )
    claims = jwt.decode(token, secret, algorithms=["HS256"], issuer="portal", options={"verify_exp": False})
    assert claims["iat"] == int(NOW.timestamp()) and claims["exp"] == claims["iat"] + 180
    expected = hashlib.sha256(b"POST&/hooks/installed&a=1&b=2").hexdigest()
    assert claims["qsh"] == expected
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "another secret", algorithms=["HS256"], options={"verify_exp": False})


def test_canonical_request_follows_connect():
    assert signing.canonical_request(
        "get", "https://a.example/app/x/?jwt=abc&b=1&a=2&a=1", "https://a.example/app"
    ) == ("GET&/x&a=1,2&b=1")
    assert signing.canonical_request("POST", "https://a.example") == "POST&/&"
    assert signing.canonical_request("POST", "https://a.example/p?q=a b") == "POST&/p&q=a%20b"


def test_webhook_signature_matches_standard_webhooks_and_signs_with_both_secrets_during_a_rotation():
    new, old = signing.webhook_secret_new(), signing.webhook_secret_new()
    assert new.startswith("whsec_") and len(base64.b64decode(new[6:])) == 32
    body = b'{"type":"version.published"}'
    header = signing.webhook_signature(secrets_=[new, old], msg_id="msg_1", timestamp=1700000000, body=body)
    key = base64.b64decode(old[6:])
    expected = base64.b64encode(hmac.new(key, b"msg_1.1700000000." + body, hashlib.sha256).digest()).decode()
    assert header.split()[1] == f"v1,{expected}"
    assert signing.webhook_signature_valid(secret=new, msg_id="msg_1", timestamp=1700000000, body=body, header=header)
    assert not signing.webhook_signature_valid(
        secret=new, msg_id="msg_1", timestamp=1700000000, body=body + b" ", header=header
    )


def test_retry_delays_double_with_bounded_jitter_and_six_attempts_take_about_an_hour():
    rng = random.Random(7)
    delays = [signing.retry_delay(n, base_seconds=120, rng=rng) for n in range(1, 6)]
    for n, delay in enumerate(delays, start=1):
        assert 0.8 * 120 * 2 ** (n - 1) <= delay <= 1.2 * 120 * 2 ** (n - 1)
    assert 0.8 * 3720 <= sum(delays) <= 1.2 * 3720  # 2+4+8+16+32 minutes: about an hour
