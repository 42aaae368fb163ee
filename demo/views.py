"""A demo vendor app for `make run` (development only): receives the portal's lifecycle callbacks
and webhooks, checks them the way a real app must, and answers what it found.

- POST /demo/apps/<key>/<event>: a lifecycle callback. On `installed` it keeps the shared secret
  from the payload (var/demo/receiver/secrets.json, by clientKey and installation); every call's
  `Authorization: JWT ...` is verified with PyJWT (HS256, issuer, expiry, qsh of "POST&<path>&").
- POST /demo/webhooks/<key>: a vendor webhook, checked with the Standard Webhooks signature
  against the listing's endpoints registered at this URL.

It answers 200 with what it verified, or 401 with why not: the portal's delivery log shows
either. Each call is appended to var/demo/receiver/calls.jsonl.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import jwt
from django.conf import settings
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from upgrades.models import WebhookEndpoint
from upgrades.signing import webhook_signature_valid


def _dir() -> Path:
    path = Path(settings.VAR_DIR) / "demo" / "receiver"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _development_only() -> None:
    if not (settings.DEBUG and settings.DESCRIPTOR_ALLOW_LOOPBACK):
        raise Http404("The demo app receives callbacks only in development.")


def _log(entry: dict[str, Any]) -> None:
    with (_dir() / "calls.jsonl").open("a") as log:
        log.write(json.dumps(entry) + "\n")


def _answer(entry: dict[str, Any]) -> JsonResponse:
    _log(entry)
    return JsonResponse(entry, status=200 if entry["verified"] else 401)


@csrf_exempt
@require_POST
def demo_app_callback(request: HttpRequest, key: str, event: str) -> JsonResponse:
    _development_only()
    try:
        body = json.loads(request.body)
    except ValueError:
        return _answer({"event": event, "verified": False, "problem": "the body is not JSON"})
    client = f"{body.get('clientKey')}/{body.get('installationId')}"
    secrets_file = _dir() / "secrets.json"
    known = json.loads(secrets_file.read_text()) if secrets_file.exists() else {}
    if body.get("eventType") == "installed" and body.get("sharedSecret"):
        known[client] = body["sharedSecret"]
        secrets_file.write_text(json.dumps(known))
    entry = {"event": event, "deliveryId": body.get("deliveryId"), "client": client, "verified": False}
    secret = known.get(client)
    auth = request.headers.get("Authorization", "")
    if not secret or not auth.startswith("JWT "):
        return _answer({**entry, "problem": "no shared secret for this installation, or no JWT"})
    try:
        claims = jwt.decode(
            auth[4:],
            secret,
            algorithms=["HS256"],
            issuer=settings.DELIVERY_JWT_ISSUER,
            options={"require": ["iss", "iat", "exp", "qsh"]},
        )
    except jwt.PyJWTError as exc:
        return _answer({**entry, "problem": f"JWT refused: {exc}"})
    if claims["qsh"] != hashlib.sha256(f"POST&{request.path.rstrip('/')}&".encode()).hexdigest():
        return _answer({**entry, "problem": "the qsh claim does not match this request"})
    return _answer({**entry, "verified": True})


@csrf_exempt
@require_POST
def demo_webhook(request: HttpRequest, key: str) -> JsonResponse:
    _development_only()
    msg_id = request.headers.get("webhook-id", "")
    stamp = request.headers.get("webhook-timestamp", "")
    header = request.headers.get("webhook-signature", "")
    endpoints = WebhookEndpoint.objects.filter(listing__key=key, url__endswith=request.path)
    verified = stamp.isdigit() and any(
        webhook_signature_valid(secret=s, msg_id=msg_id, timestamp=int(stamp), body=request.body, header=header)
        for e in endpoints
        for s in (e.secret, e.previous_secret)
        if s
    )
    entry = {"webhook": key, "id": msg_id, "verified": verified}
    return _answer(entry if verified else {**entry, "problem": "signature mismatch"})
