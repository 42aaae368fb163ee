"""Sending callbacks and webhooks: one delivery at a time, outside any transaction, retried with backoff.

A delivery is created (with its payload and URL) in the transaction of the change
it tells about and enqueued after commit. `delivery_send` then:

1. takes the delivery with one conditional UPDATE (its `next_attempt_at` moves
   forward by a lease), so two workers never call at once and a task that runs
   twice sends once, and holds no lock while it calls;
2. signs and POSTs through versions.fetch.post_json (public addresses only, one
   deadline, no redirects, the answer cut off at a limit): whatever the app
   answers, or doesn't, becomes an attempt row, never an exception;
3. records the attempt and the delivery's new state in one short transaction:
   delivered (2xx), retrying (another attempt is due after an exponential,
   jittered delay) or failed for good (attempts used up). A change of state is
   audited; what it means for an installation or an upgrade is decided in
   upgrades.services.callbacks; the vendor gets one e-mail per failure streak.

At least once: the receiver recognises a repeat by the delivery id (the JWT
payload's `deliveryId`, the `webhook-id` header). The beat task
`delivery_send_due` picks up whatever is due and was not sent (a lost message,
a worker that died mid-call once its lease ran out).
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.errors import ApplicationError, NotFound
from core.services import audit_record
from marketplace.permissions import is_vendor_member
from upgrades import tasks
from upgrades.lifecycle import UPGRADE_HOOKS
from upgrades.models import Delivery, DeliveryAttempt, DeliveryKind, DeliveryState, DeliveryStreak
from upgrades.permissions import is_site_admin
from upgrades.signing import lifecycle_token, retry_delay, webhook_signature
from versions.fetch import FetchError, post_json

logger = logging.getLogger(__name__)

DELIVERY = "upgrades.delivery"
OPEN_STATES = (DeliveryState.PENDING, DeliveryState.RETRYING)


def delivery_body(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact, keys sorted."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str).encode()


def delivery_build(
    *,
    kind: str,
    event: str,
    listing_id: int,
    url: str,
    payload: dict[str, Any],
    installation_id: int | None = None,
    upgrade_id: int | None = None,
    endpoint_id: int | None = None,
) -> Delivery:
    """An unsaved delivery; its id goes into the payload so the app can recognise a repeat."""
    delivery = Delivery(
        kind=kind,
        event=event,
        listing_id=listing_id,
        url=url[:500],
        installation_id=installation_id,
        upgrade_id=upgrade_id,
        endpoint_id=endpoint_id,
        max_attempts=settings.DELIVERY_MAX_ATTEMPTS,
    )
    delivery.payload = {**payload, "deliveryId": str(delivery.delivery_id)}
    return delivery


def deliveries_enqueue(deliveries: list[Delivery]) -> list[Delivery]:
    """Insert the deliveries (one statement) and send each once the caller's transaction commits."""
    if not deliveries:
        return []
    created = Delivery.objects.bulk_create(deliveries)
    ids = [d.pk for d in created]
    for pk in ids:
        transaction.on_commit(partial(tasks.delivery_send.delay, pk), robust=True)
    return created


def _headers(delivery: Delivery, body: bytes, now: datetime) -> dict[str, str]:
    if delivery.kind == DeliveryKind.WEBHOOK:
        endpoint = delivery.endpoint
        if endpoint is None:
            raise ApplicationError("The webhook endpoint was deleted.", field="endpoint")
        keys = [endpoint.secret]
        if endpoint.previous_secret and (endpoint.previous_secret_expires_at or now) > now:
            keys.append(endpoint.previous_secret)
        stamp = int(now.timestamp())
        return {
            "webhook-id": str(delivery.delivery_id),
            "webhook-timestamp": str(stamp),
            "webhook-signature": webhook_signature(
                secrets_=keys, msg_id=str(delivery.delivery_id), timestamp=stamp, body=body
            ),
        }
    installation = delivery.installation
    if installation is None or not installation.shared_secret:
        raise ApplicationError("The installation has no shared secret to sign with.", field="installation")
    token = lifecycle_token(
        secret=installation.shared_secret,
        issuer=settings.DELIVERY_JWT_ISSUER,
        method="POST",
        url=delivery.url,
        now=now,
    )
    return {"Authorization": f"JWT {token}"}


def _wire_payload(delivery: Delivery) -> dict[str, Any]:
    """What goes on the wire: the stored payload, plus the shared secret for `installed`
    (kept out of the stored payload, which the vendor's pages and the admin show)."""
    payload = dict(delivery.payload)
    if delivery.kind == DeliveryKind.LIFECYCLE and delivery.event == "installed" and delivery.installation:
        payload["sharedSecret"] = delivery.installation.shared_secret
    return payload


def _excerpt(body: bytes, limit: int = 1000) -> str:
    return body[:limit].decode("utf-8", errors="replace")


def _call(delivery: Delivery) -> tuple[int | None, str, str, int]:
    """POST once: (status or None, error or "", the answer's first bytes, latency in ms). Never raises.

    Signed at the time of sending (the wall clock, not the scheduler's `now`): a receiver checks iat/exp
    and the webhook timestamp against its own clock."""
    started = time.monotonic()
    status: int | None = None
    error = ""
    excerpt = ""
    try:
        body = delivery_body(_wire_payload(delivery))
        result = post_json(
            delivery.url,
            body,
            headers=_headers(delivery, body, timezone.now()),
            max_bytes=settings.DELIVERY_MAX_RESPONSE_BYTES,
            connect_timeout=settings.DELIVERY_CONNECT_TIMEOUT,
            read_timeout=settings.DELIVERY_READ_TIMEOUT,
        )
        status, excerpt = result.status, _excerpt(result.body)
        if not 200 <= status < 300:
            error = f"The app answered HTTP {status}."
            if 300 <= status < 400:
                error += " Redirects are not followed: register the final URL."
        elif result.truncated:
            excerpt = excerpt[:980] + " … (cut off)"
    except FetchError as exc:
        status, error = exc.status, exc.message
    except ApplicationError as exc:
        error = exc.message
    except Exception as exc:  # a vendor's answer must never crash the worker
        logger.exception("Delivery %s: unexpected error", delivery.delivery_id)
        error = f"Unexpected error: {exc.__class__.__name__}."
    return status, error[:500], excerpt[:1000], int((time.monotonic() - started) * 1000)


def delivery_send(*, delivery_pk: int, now: datetime | None = None) -> Delivery | None:
    """Make the delivery's next attempt if one is due; None when there is nothing to do (already
    delivered, failed for good, not due yet, or another worker is calling right now)."""
    now = now or timezone.now()
    lease = now + timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    if not Delivery.objects.filter(due, pk=delivery_pk, state__in=OPEN_STATES).update(next_attempt_at=lease):
        return None
    delivery = Delivery.objects.select_related("installation", "endpoint", "listing").get(pk=delivery_pk)
    status, error, excerpt, latency = _call(delivery)
    return _record_attempt(
        delivery_pk=delivery_pk, now=now, status=status, error=error, excerpt=excerpt, latency=latency
    )


def _record_attempt(
    *, delivery_pk: int, now: datetime, status: int | None, error: str, excerpt: str, latency: int
) -> Delivery:
    from upgrades.services.callbacks import delivery_settled

    with transaction.atomic():
        delivery = Delivery.objects.select_for_update(of=("self",)).select_related("listing").get(pk=delivery_pk)
        if delivery.state not in OPEN_STATES:  # settled meanwhile (a redelivery raced a retry)
            return delivery
        number = delivery.attempts + 1
        DeliveryAttempt.objects.create(
            delivery=delivery,
            number=number,
            started_at=now,
            latency_ms=latency,
            status_code=status,
            error=error,
            response_excerpt=excerpt,
        )
        before = delivery.state
        delivery.attempts = number
        delivery.last_status, delivery.last_error, delivery.last_response = status, error, excerpt
        delay = None
        if not error:
            delivery.state, delivery.next_attempt_at, delivery.finished_at = DeliveryState.SUCCEEDED, None, now
        elif number >= delivery.max_attempts:
            delivery.state, delivery.next_attempt_at, delivery.finished_at = DeliveryState.FAILED, None, now
        else:
            delay = retry_delay(number, base_seconds=settings.DELIVERY_RETRY_BASE_SECONDS)
            delivery.state, delivery.next_attempt_at = DeliveryState.RETRYING, now + timedelta(seconds=delay)
        delivery.save()
        if delivery.state != before:
            audit_record(
                actor=None,
                action=f"delivery.{'succeed' if delivery.state == DeliveryState.SUCCEEDED else 'fail' if delivery.state == DeliveryState.FAILED else 'retry'}",
                obj=delivery,
                object_type=DELIVERY,
                object_repr=f"{delivery.event} to {delivery.listing.key}",
                from_state=before,
                to_state=delivery.state,
                details={"delivery_id": str(delivery.delivery_id), "attempt": number, "status": status, "error": error},
                at=now,
            )
        if delivery.state == DeliveryState.SUCCEEDED:
            _streak_end(delivery)
            delivery_settled(delivery=delivery, delivered=True, now=now)
        elif delivery.state == DeliveryState.FAILED:
            _streak_count(delivery, now)
            delivery_settled(delivery=delivery, delivered=False, now=now)
        elif delay is not None:
            transaction.on_commit(
                partial(tasks.delivery_send.apply_async, (delivery.pk,), countdown=delay), robust=True
            )
    return delivery


def _streak_target(delivery: Delivery) -> str:
    if delivery.kind == DeliveryKind.WEBHOOK:
        return f"webhook:{delivery.endpoint_id}"
    return f"lifecycle:{delivery.listing_id}"


def _streak_end(delivery: Delivery) -> None:
    DeliveryStreak.objects.filter(target=_streak_target(delivery)).delete()


def _streak_count(delivery: Delivery, now: datetime) -> None:
    """One e-mail per streak: the first failure for good starts one; later ones only count."""
    streak, created = DeliveryStreak.objects.select_for_update().get_or_create(
        target=_streak_target(delivery), defaults={"listing_id": delivery.listing_id, "failing_since": now}
    )
    if created:
        transaction.on_commit(partial(tasks.send_delivery_failure_email.delay, streak.pk, delivery.pk), robust=True)
    else:
        streak.failures += 1
        streak.save(update_fields=["failures"])


def delivery_redeliver(*, delivery: Delivery, actor: Any) -> Delivery:
    """Send a delivery that failed for good again: same delivery id (the app may have handled it), a
    fresh set of attempts. Upgrade hooks are not redelivered: the upgrade failed, upgrading again calls
    them anew."""
    with transaction.atomic():
        locked = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("listing", "installation")
            .get(pk=delivery.pk)
        )
        # The vendor, or the admins of the installation's site (its Retry button); nobody else sees it.
        if not (
            is_vendor_member(actor, locked.listing.vendor_id)
            or (locked.installation is not None and is_site_admin(actor, locked.installation.site_id))
        ):
            raise NotFound("No such delivery.")
        if locked.event in UPGRADE_HOOKS:
            raise ApplicationError(
                "An upgrade hook is not redelivered: its upgrade failed; upgrade the installation again.",
                field="delivery",
            )
        if locked.state != DeliveryState.FAILED:
            raise ApplicationError(
                f"Only a delivery that failed for good can be redelivered; this one is {locked.get_state_display().lower()}.",
                field="delivery",
            )
        locked.state = DeliveryState.PENDING
        locked.max_attempts = locked.attempts + settings.DELIVERY_MAX_ATTEMPTS
        locked.next_attempt_at = None
        locked.finished_at = None
        locked.save()
        audit_record(
            actor=actor,
            action="delivery.redeliver",
            obj=locked,
            object_type=DELIVERY,
            object_repr=f"{locked.event} to {locked.listing.key}",
            from_state=DeliveryState.FAILED,
            to_state=DeliveryState.PENDING,
            details={"delivery_id": str(locked.delivery_id)},
        )
        if locked.event == "installed" and locked.installation_id:
            from upgrades.services.callbacks import installation_app_status_set

            installation_app_status_set(installation_id=locked.installation_id, status="pending", actor=actor)
        transaction.on_commit(partial(tasks.delivery_send.delay, locked.pk), robust=True)
    return locked


def deliveries_send_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Beat: enqueue every open delivery whose time came (a retry, or one whose task was lost)."""
    now = now or timezone.now()
    ids = list(
        Delivery.objects.filter(state__in=OPEN_STATES)
        .filter(
            Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True, created_at__lte=now - timedelta(minutes=1))
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in ids:
        tasks.delivery_send.delay(pk)
    return len(ids)
