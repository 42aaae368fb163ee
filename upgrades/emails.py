"""E-mails to site admins, sent from an outbox (SentEmail; core.emails.send_batch).

The services write one SentEmail row per message (kind, request or upgrade,
recipient, Message-ID) in the transaction that creates the request or applies
the upgrade, under a unique constraint: a task or chunk that runs twice queues
nothing twice, and a worker killed after its commit loses no e-mail.

`outbox_send` claims queued rows with SELECT ... FOR UPDATE SKIP LOCKED (two
senders never take the same row), renders them with a fixed number of queries
per batch, sends them over one SMTP connection and marks each one sent as soon
as the server accepts it. A sender killed meanwhile leaves claims that expire
after OUTBOX_CLAIM_TIMEOUT; the next sender sends those rows again under the
same Message-ID, so at most the one message in flight at the crash can arrive
twice, and then as the same message. `outbox_drain` runs OUTBOX_SENDERS such
senders side by side in one worker (threads, each with its own connections).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.html import conditional_escape

from core.bulk import bulk_insert_rows
from core.db import hot_cursor, run_in_threads
from core.emails import build_email, build_email_from, new_message_id, send_batch, send_email_once
from core.notifications import APPLIED_UPGRADES, unsubscribe_headers, unsubscribe_url
from marketplace.models import Listing
from upgrades.models import ConsentLink, SentEmail, SiteAdmin, Upgrade, UpgradeRequest, UpgradeState
from upgrades.selectors.notifications import applied_email_recipients
from versions import policies
from versions.models import Version

CONSENT_LINK_SALT = "upgrades.consent-link"
logger = logging.getLogger(__name__)


def consent_token(link: ConsentLink) -> str:
    """A signed, timestamped token naming the link row, its request and its recipient."""
    return signing.dumps({"l": link.nonce.hex, "r": link.request_id, "e": link.email}, salt=CONSENT_LINK_SALT)


def consent_url(link: ConsentLink) -> str:
    path = outbox_reverse("upgrades:consent", (987654321, "tokenQQmarker"), (link.request_id, consent_token(link)))
    return f"{settings.PORTAL_BASE_URL}{path}"


# An argument `outbox_reverse` fills in as it is: what the int and str converters and reverse()'s
# quoting leave unchanged (a signed token's alphabet: base64url and ":").
_VERBATIM = re.compile(r"[A-Za-z0-9_:-]+")


@functools.lru_cache(maxsize=16)
def _reversed_parts(name: str, markers: tuple, script_prefix: str) -> tuple[str, ...] | None:
    """The path of `name` reversed once with distinct marker arguments, cut at each marker."""
    rest, parts = reverse(name, args=list(markers)), []
    for marker in map(str, markers):
        if rest.count(marker) != 1:
            return None
        before, rest = rest.split(marker)
        parts.append(before)
    return (*parts, rest)


def outbox_reverse(name: str, markers: tuple, args: tuple) -> str:
    """reverse(name, args=args) for the outbox's thousands of links per batch: the URL pattern is
    reversed once (per script prefix) and each link filled in. An argument that is not a
    non-negative int where the marker is an int, or not `_VERBATIM` text where it is a str, goes
    through reverse() as before."""
    parts = _reversed_parts(name, markers, get_script_prefix())
    plain = all(
        (isinstance(a, int) and not isinstance(a, bool) and a >= 0)
        if isinstance(m, int)
        else (isinstance(a, str) and _VERBATIM.fullmatch(a) is not None)
        for m, a in zip(markers, args, strict=True)
    )
    if parts is None or not plain:
        return reverse(name, args=list(args))
    return "".join(part + str(arg) for part, arg in zip(parts, (*args, ""), strict=True))


def consent_link_for(request: UpgradeRequest, email: str) -> ConsentLink:
    """The recipient's one link for the request (the reminder repeats it, freshly signed)."""
    link = ConsentLink.objects.filter(request=request, email=email).first()
    if link is None:
        try:
            with transaction.atomic():
                link = ConsentLink.objects.create(request=request, email=email, nonce=uuid.uuid4())
        except IntegrityError:
            link = ConsentLink.objects.get(request=request, email=email)
    return link


def _admins_by_site(site_ids: Iterable[int]) -> dict[int, list[str]]:
    admins: dict[int, set[str]] = defaultdict(set)
    for site_id, email in SiteAdmin.objects.filter(site_id__any=list(set(site_ids))).values_list("site_id", "email"):
        admins[site_id].add(email)
    return {site_id: sorted(emails) for site_id, emails in admins.items()}


def outbox_add_requests(
    request_ids: Iterable[int],
    *,
    kind: str = SentEmail.Kind.CONSENT,
    sites: dict[int, int] | None = None,
    new_requests: bool = False,
) -> int:
    """Queue one e-mail per site admin for each request, and each admin's consent link; call it
    in the transaction that creates (or reminds about) the requests. `sites` maps request ids to
    their site ids when the caller has them. At most four queries whatever the count.

    `new_requests`: the requests were created in this very transaction, so nothing can be queued
    for them yet and the rows are streamed (core.bulk) instead of inserted one conflict check each."""
    if sites is None:
        query = UpgradeRequest.objects.filter(pk__in=list(request_ids))
        sites = dict(query.values_list("pk", "installation__site_id"))
    pairs = list(sites.items())
    admins = _admins_by_site(site_id for _, site_id in pairs)
    recipients = [(request_id, email) for request_id, site_id in pairs for email in admins.get(site_id, [])]
    if new_requests:  # tuples, no model instances (core.bulk.bulk_insert_rows)
        bulk_insert_rows(ConsentLink, ("request_id", "email", "nonce"), [(r, e, uuid.uuid4()) for r, e in recipients])
        return bulk_insert_rows(
            SentEmail,
            ("kind", "request_id", "recipient", "message_id"),
            [(str(kind), r, e, new_message_id()) for r, e in recipients],
        )
    links = [ConsentLink(request_id=r, email=e, nonce=uuid.uuid4()) for r, e in recipients]
    rows = [SentEmail(kind=kind, request_id=r, recipient=e, message_id=new_message_id()) for r, e in recipients]
    ConsentLink.objects.bulk_create(links, ignore_conflicts=True)
    return len(SentEmail.objects.bulk_create(rows, ignore_conflicts=True))


def outbox_add_applied(upgrade_ids: Iterable[int], *, new: bool = False, sites: dict[int, int] | None = None) -> int:
    """Queue the "upgraded" e-mail to each site admin of each applied upgrade (in the applying transaction).
    `new`: the upgrades were applied in this very transaction (nothing queued for them yet: streamed).
    `sites` maps upgrade ids to their site ids when the caller has them."""
    if sites is None:
        pairs = list(Upgrade.objects.filter(pk__any=list(upgrade_ids)).values_list("pk", "installation__site_id"))
    else:
        pairs = [(upgrade_id, sites[upgrade_id]) for upgrade_id in upgrade_ids if upgrade_id in sites]
    admins = applied_email_recipients(site_id for _, site_id in pairs)  # their per-site preference (#16)
    recipients = [(upgrade_id, email) for upgrade_id, site_id in pairs for email in admins.get(site_id, [])]
    if new:  # tuples, no model instances (core.bulk.bulk_insert_rows)
        return bulk_insert_rows(
            SentEmail,
            ("kind", "upgrade_id", "recipient", "message_id"),
            [(SentEmail.Kind.APPLIED.value, u, e, new_message_id()) for u, e in recipients],
        )
    rows = [
        SentEmail(kind=SentEmail.Kind.APPLIED, upgrade_id=upgrade_id, recipient=email, message_id=new_message_id())
        for upgrade_id, email in recipients
    ]
    return len(SentEmail.objects.bulk_create(rows, ignore_conflicts=True))


def _outbox_claim(*, limit: int, now: datetime) -> list[SentEmail]:
    """Take up to `limit` queued rows nobody holds (or whose holder's claim expired)."""
    with transaction.atomic():
        rows = list(
            SentEmail.objects.select_for_update(skip_locked=True)
            .filter(state=SentEmail.State.QUEUED)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .order_by("pk")[:limit]
        )
        if not rows:
            return []
        SentEmail.objects.filter(pk__any=[r.pk for r in rows]).update(
            claimed_until=now + settings.OUTBOX_CLAIM_TIMEOUT, attempts=F("attempts") + 1
        )
        unnamed = [r for r in rows if not r.message_id]  # queued before the outbox had Message-IDs
        for row in unnamed:
            row.message_id = new_message_id()
        SentEmail.objects.bulk_update(unnamed, ["message_id"])
    for row in rows:
        row.attempts += 1
    return rows


def _request_context(request: UpgradeRequest) -> dict:
    installation = request.installation
    return {
        "request": request,
        "site": installation.site,
        "listing": installation.listing,
        "from_version": request.from_version,
        "to_version": request.to_version,
        "reasons": request.reasons,
        "link_max_age_days": settings.UPGRADE_LINK_MAX_AGE.days,
        "portal_url": settings.PORTAL_BASE_URL,
        "site_url": settings.PORTAL_BASE_URL + outbox_reverse("upgrades:site", (987654321,), (installation.site_id,)),
    }


def _upgrade_context(upgrade: Upgrade) -> dict:
    return {
        "upgrade": upgrade,
        "site": upgrade.installation.site,
        "listing": upgrade.installation.listing,
        "from_version": upgrade.from_version,
        "to_version": upgrade.to_version,
        "approver": upgrade.request.decider_label if upgrade.request_id else "",
        "portal_url": settings.PORTAL_BASE_URL,
    }


# Templates whose text is the same for every request of one (listing, versions, reasons) but for a
# few per-recipient parts: rendered once per batch and filled in (_SharedBodies).
_SHARED_TEMPLATES = frozenset({"upgrade_consent", "upgrade_market"})
_SLOTS = ("site_name", "site_url", "link", "recipient")


def _slot(name: str) -> str:
    return f"QQslot{name.replace('_', '')}QQ"


_SLOT = re.compile("|".join(_slot(name) for name in _SLOTS))


class _SharedBodies:
    """Render a consent e-mail's two templates once per (template, listing, versions, reasons) and
    fill in each recipient's parts (the site's name and page, the link, the address).

    The parts are rendered as markers and replaced (escaped for the HTML body). The first message
    of each kind is also rendered in full and compared: a template that uses anything else of the
    request or site (or filters a part) does not match and is rendered in full from then on, so the
    messages are exactly what `build_email` makes."""

    def __init__(self) -> None:
        self.cache: dict[tuple, tuple[str, str] | None] = {}

    def build(self, row: SentEmail, request: UpgradeRequest, template: str, context: dict, subject: str):
        site = request.installation.site
        values = {
            "site_name": site.name,
            "site_url": context["site_url"],
            "link": context["link"],
            "recipient": row.recipient,
        }
        key = (
            template,
            request.installation.listing_id,
            request.from_version_id,
            request.to_version_id,
            repr(request.reasons),
        )
        full = {**context, "recipient": row.recipient}
        if key not in self.cache:
            marked = {
                **context,
                "request": None,
                "site": _MarkedSite(_slot("site_name")),
                **{name: _slot(name) for name in _SLOTS if name != "site_name"},
            }
            text = render_to_string(f"emails/{template}.txt", marked)
            html = render_to_string(f"emails/{template}.html", marked)
            shared = (text, html)
            real = (render_to_string(f"emails/{template}.txt", full), render_to_string(f"emails/{template}.html", full))
            self.cache[key] = shared if self._fill(shared, values) == real else None
        shared = self.cache[key]
        text, html = (
            self._fill(shared, values)
            if shared is not None
            else (render_to_string(f"emails/{template}.txt", full), render_to_string(f"emails/{template}.html", full))
        )
        return build_email_from(to=[row.recipient], subject=subject, text=text, html=html, message_id=row.message_id)

    @staticmethod
    def _fill(shared: tuple[str, str], values: dict[str, str]) -> tuple[str, str]:
        # One pass each: a value that looks like a marker is not filled in again.
        text, html = shared
        raw = {_slot(name): str(value) for name, value in values.items()}
        escaped = {_slot(name): conditional_escape(value) for name, value in values.items()}
        return _SLOT.sub(lambda m: raw[m.group(0)], text), _SLOT.sub(lambda m: escaped[m.group(0)], html)


class _MarkedSite:
    def __init__(self, name: str) -> None:
        self.name = name


def _outbox_messages(
    rows: list[SentEmail], skipped: dict[int, str], broken: dict[int, str]
) -> Iterator[tuple[SentEmail, object]]:
    """Render the claimed rows (five queries for the batch); rows no longer relevant go to
    `skipped`, rows that cannot be rendered (a template error: no retry would help) to `broken`."""
    requests = UpgradeRequest.objects.select_related("installation__site").in_bulk(
        [r.request_id for r in rows if r.request_id]
    )
    # A batch names few versions and listings: each is loaded once, not once per request (a join would).
    versions = Version.objects.in_bulk(
        {v for request in requests.values() for v in (request.from_version_id, request.to_version_id)}
    )
    listings = Listing.objects.in_bulk({request.installation.listing_id for request in requests.values()})
    for request in requests.values():
        request.from_version, request.to_version = versions[request.from_version_id], versions[request.to_version_id]
        request.installation.listing = listings[request.installation.listing_id]
    upgrades = Upgrade.objects.select_related(
        "installation__site", "installation__listing", "from_version", "to_version", "request"
    ).in_bulk([r.upgrade_id for r in rows if r.upgrade_id])
    wanted = {(r.request_id, r.recipient) for r in rows if r.request_id}
    links = {
        (link.request_id, link.email): link
        for link in ConsentLink.objects.filter(request_id__any=list(requests))
        if (link.request_id, link.email) in wanted
    }
    bodies = _SharedBodies()
    for row in rows:
        if row.kind == SentEmail.Kind.APPLIED:
            upgrade = upgrades.get(row.upgrade_id)
            if upgrade is None or upgrade.state != UpgradeState.APPLIED:
                skipped[row.pk] = "the upgrade is not applied"
                continue
            listing, site = upgrade.installation.listing, upgrade.installation.site
            subject = f"{listing.name} was upgraded to {upgrade.to_version.number} on {site.name}"
            template, context = "upgrade_applied", _upgrade_context(upgrade)
            context["unsubscribe_url"] = unsubscribe_url(kind=APPLIED_UPGRADES, email=row.recipient, site_id=site.pk)
        else:
            request = requests.get(row.request_id)
            if request is None or request.state != "pending":
                skipped[row.pk] = "the request was answered or closed before its e-mail went out"
                continue
            link = links.get((request.pk, row.recipient)) or consent_link_for(request, row.recipient)
            listing, number = request.installation.listing, request.to_version.number
            market_update = bool(request.reasons) and all(
                r.get("code") == policies.INTERNAL_MARKET_UPDATE for r in request.reasons
            )
            if market_update:
                # The internal market reminds; the admin upgrades (one click on the site page or the link).
                reminder = "Reminder: " if row.kind == SentEmail.Kind.REMINDER else ""
                subject = f"{reminder}{listing.name} {number} is ready to upgrade on {request.installation.site.name}"
                template = "upgrade_market"
            elif row.kind == SentEmail.Kind.REMINDER:
                subject = f"Reminder: {listing.name} {number} is waiting for your approval"
                template = "upgrade_reminder"
            else:
                subject = f"{listing.name} {number} needs your approval on {request.installation.site.name}"
                template = "upgrade_consent"
            context = {**_request_context(request), "link": consent_url(link)}
        row.subject = subject
        try:
            if template in _SHARED_TEMPLATES and not context.get("unsubscribe_url"):
                message = bodies.build(row, request, template, context, subject)
            else:
                message = build_email(
                    to=[row.recipient],
                    subject=subject,
                    template=f"emails/{template}",
                    context={**context, "recipient": row.recipient},
                    message_id=row.message_id,
                    headers=unsubscribe_headers(context["unsubscribe_url"]) if context.get("unsubscribe_url") else None,
                )
        except (OperationalError, OSError):
            raise  # transient: the claim expires and the row goes again
        except Exception as exc:  # one bad row must not hold up the rest of the outbox
            logger.exception("Outbox row %s could not be rendered", row.pk)
            broken[row.pk] = f"could not be rendered: {exc!r}"[:255]
            continue
        yield row, message


def outbox_send(*, limit: int | None = None, now: datetime | None = None) -> int:
    """Claim one batch of queued e-mails and send it over one SMTP connection; returns how many went out."""
    return _outbox_send_batch(limit=limit or settings.OUTBOX_BATCH_SIZE, now=now or timezone.now())[1]


def _outbox_send_batch(*, limit: int, now: datetime) -> tuple[int, int]:
    """(rows claimed, messages sent)."""
    rows = _outbox_claim(limit=limit, now=now)
    if not rows:
        return 0, 0
    skipped: dict[int, str] = {}
    broken: dict[int, str] = {}
    table, quote = SentEmail._meta.db_table, connection.ops.quote_name
    mark_sql = (
        f"UPDATE {quote(table)} SET state = %s, sent_at = %s, subject = %s, claimed_until = NULL"
        " WHERE id = %s AND state = %s"
    )
    queued = SentEmail.State.QUEUED.value

    def mark_sent(row: SentEmail) -> None:
        # One commit per message (outside a transaction this UPDATE is its own) keeps a killed
        # sender's window at the one message in flight; `_marks_not_waiting_for_disk` spares it the wait.
        # Plain SQL: the ORM would compile the same statement again for each of thousands of messages;
        # prepared once per connection (core.db.hot_cursor): PostgreSQL neither parses nor plans it again.
        with hot_cursor() as cursor:
            cursor.execute(mark_sql, [SentEmail.State.SENT.value, timezone.now(), row.subject, row.pk, queued])

    def mark_refused(row: SentEmail, exc: Exception) -> None:
        # Refused for this recipient: retried when the claim expires, given up after a few tries.
        final = row.attempts >= settings.OUTBOX_MAX_ATTEMPTS
        SentEmail.objects.filter(pk=row.pk, state=SentEmail.State.QUEUED).update(
            state=SentEmail.State.FAILED if final else SentEmail.State.QUEUED, outcome=str(exc)[:255]
        )

    with _marks_not_waiting_for_disk():
        sent = send_batch(_outbox_messages(rows, skipped, broken), mark_sent=mark_sent, mark_refused=mark_refused)
    for state, reasons in ((SentEmail.State.SKIPPED, skipped), (SentEmail.State.FAILED, broken)):
        for pk, reason in reasons.items():
            SentEmail.objects.filter(pk=pk, state=SentEmail.State.QUEUED).update(
                state=state, outcome=reason, claimed_until=None
            )
    return len(rows), sent


@contextlib.contextmanager
def _marks_not_waiting_for_disk() -> Iterator[None]:
    """While a batch is sent, this connection's commits (the marks) do not wait for the disk.

    A database crash could forget the last marks: those messages go again under
    their Message-ID when their claims expire, never as new ones. Inside a
    transaction (tests) nothing changes: the marks commit with it.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def _drain_until(deadline: float) -> tuple[int, bool]:
    total = 0
    while time.monotonic() < deadline:
        claimed, sent = _outbox_send_batch(limit=settings.OUTBOX_BATCH_SIZE, now=timezone.now())
        total += sent
        if not claimed:
            return total, False
    return total, True


def outbox_drain(*, budget_seconds: float | None = None) -> tuple[int, bool]:
    """Send batches until nothing is left to claim or the time budget is spent: (sent, more left?).

    On PostgreSQL, OUTBOX_SENDERS threads of this one worker send at once, each
    claiming its own batches (SKIP LOCKED: never the same row) over its own SMTP
    connection and database connection, so one sender's wait for the SMTP
    server's or the database's answer is another's time to render. Inside a
    transaction (tests) one sender runs: other threads could not see its rows.
    """
    budget = settings.OUTBOX_DRAIN_SECONDS if budget_seconds is None else budget_seconds
    deadline = time.monotonic() + budget
    return run_in_threads(_drain_until, threads=settings.OUTBOX_SENDERS, deadline=deadline, name="outbox")


def send_request_emails(request_id: int, *, kind: str = SentEmail.Kind.CONSENT) -> int:
    """Queue and send the e-mails of one request (demo data, tests); returns how many went out now."""
    return send_request_emails_many([request_id], kind=kind)


def send_request_emails_many(request_ids: list[int], *, kind: str = SentEmail.Kind.CONSENT) -> int:
    """Queue (if not queued yet) and send the e-mails of these requests; returns how many went out now."""
    outbox_add_requests(request_ids, kind=kind)
    return outbox_drain()[0]


def send_reminder_emails_many(request_ids: list[int]) -> int:
    return send_request_emails_many(request_ids, kind=SentEmail.Kind.REMINDER)


def send_applied_emails(upgrade_id: int) -> int:
    return send_applied_emails_many([upgrade_id])


def send_applied_emails_many(upgrade_ids: list[int]) -> int:
    outbox_add_applied(upgrade_ids)
    return outbox_drain()[0]


def send_delivery_failure_email(streak_id: int, delivery_pk: int):
    """Tell the vendor a callback or webhook failed for good: once per failure streak (its `notified_at`)."""
    from core.emails import vendor_recipients
    from core.notifications import DELIVERY_FAILURES
    from upgrades.models import Delivery, DeliveryKind, DeliveryStreak

    streak = DeliveryStreak.objects.select_related("listing__vendor").filter(pk=streak_id).first()
    delivery = Delivery.objects.filter(pk=delivery_pk).first()
    if streak is None or delivery is None or streak.notified_at is not None:
        return None
    listing = streak.listing

    def claim() -> DeliveryStreak | None:
        return DeliveryStreak.objects.select_for_update().filter(pk=streak_id, notified_at__isnull=True).first()

    def mark_sent(locked: DeliveryStreak) -> None:
        locked.notified_at = timezone.now()
        locked.save(update_fields=["notified_at"])

    what = "A webhook" if delivery.kind == DeliveryKind.WEBHOOK else "A lifecycle callback"
    path = reverse("portal:listing-deliveries", kwargs={"key": listing.key})
    return send_email_once(
        claim=claim,
        to=vendor_recipients(listing.vendor, DELIVERY_FAILURES),
        unsubscribe_kind=DELIVERY_FAILURES,
        subject=f"[Marketplace] {what} of {listing.name} could not be delivered",
        template="emails/delivery_failed",
        context={
            "listing": listing,
            "delivery": delivery,
            "what": what,
            "deliveries_url": f"{settings.PORTAL_BASE_URL}{path}?state=failed",
        },
        mark_sent=mark_sent,
    )


def site_invitation_context(invitation, link_token: str) -> dict:
    """The invitation e-mail's context (sent once by upgrades.services.site_invitation_send)."""
    inviter = invitation.invited_by
    return {
        "inviter": (inviter.get_full_name() or inviter.email or inviter.get_username()) if inviter else "A site admin",
        "target": invitation.site.name,
        "what": f"administer the site {invitation.site.name}",
        "email": invitation.email,
        "expires_at": invitation.expires_at,
        "link_url": settings.PORTAL_BASE_URL + reverse("invitations:site", args=[link_token]),
        "portal_url": settings.PORTAL_BASE_URL,
    }


def send_stage_halted_email(rollout_id: int):
    """Tell the vendor a staged rollout halted by itself (its stage failed too often): once per halt."""
    from core.emails import vendor_recipients
    from upgrades.models import Rollout, RolloutState

    rollout = Rollout.objects.select_related("listing__vendor", "version").filter(pk=rollout_id).first()
    if rollout is None or rollout.state != RolloutState.HALTED or not rollout.halt_reason:
        return None
    listing = rollout.listing

    def claim() -> Rollout | None:
        locked = Rollout.objects.select_for_update().filter(pk=rollout_id, state=RolloutState.HALTED).first()
        if locked is None or (
            locked.halt_notified_at and locked.halted_at and locked.halt_notified_at >= locked.halted_at
        ):
            return None
        return locked

    def mark_sent(locked: Rollout) -> None:
        Rollout.objects.filter(pk=locked.pk).update(halt_notified_at=timezone.now())

    path = reverse("upgrades:listing-rollouts", kwargs={"key": listing.key})
    return send_email_once(
        claim=claim,
        to=vendor_recipients(listing.vendor),
        subject=f"[Marketplace] The rollout of {listing.name} {rollout.version.number} halted by itself",
        template="emails/stage_halted",
        context={
            "listing": listing,
            "rollout": rollout,
            "rollouts_url": f"{settings.PORTAL_BASE_URL}{path}",
        },
        mark_sent=mark_sent,
        message_key=f"stage-halted.{rollout.pk}.{int(rollout.halted_at.timestamp()) if rollout.halted_at else 0}",
    )


# --- notification preferences (issue #16 item 5) ------------------------------------------------


def send_upgrade_digest(digest_id: int):
    """Send one site admin's daily digest of applied upgrades, once (its `sent_at`)."""
    from upgrades.models import AppliedUpgradeEmails, UpgradeDigest

    digest = UpgradeDigest.objects.select_related("site_admin__site").filter(pk=digest_id, sent_at=None).first()
    if digest is None or not digest.upgrade_ids:
        return None
    admin, site = digest.site_admin, digest.site_admin.site
    if admin.applied_upgrades != AppliedUpgradeEmails.DIGEST:
        return None  # the admin chose otherwise since the digest was made
    applied = list(
        Upgrade.objects.filter(pk__in=digest.upgrade_ids)
        .select_related("installation__listing", "from_version", "to_version")
        .order_by("applied_at", "pk")
    )

    def claim() -> UpgradeDigest | None:
        return UpgradeDigest.objects.select_for_update().filter(pk=digest_id, sent_at=None).first()

    def mark_sent(locked: UpgradeDigest) -> None:
        locked.sent_at = timezone.now()
        locked.save(update_fields=["sent_at"])

    count = len(applied)
    return send_email_once(
        claim=claim,
        message_key=f"upgrade-digest.{digest_id}",
        to=[admin.email],
        subject=f"{site.name}: {count} app upgrade{'s' if count != 1 else ''} applied since yesterday",
        template="emails/upgrade_digest",
        context={
            "site": site,
            "upgrades": applied,
            "digest": digest,
            "portal_url": settings.PORTAL_BASE_URL,
            "site_url": settings.PORTAL_BASE_URL + reverse("upgrades:site", kwargs={"pk": site.pk}),
            "unsubscribe_reason": f"You chose a daily digest of the upgrades applied on {site.name}.",
        },
        mark_sent=mark_sent,
        unsubscribe_kind=APPLIED_UPGRADES,
        unsubscribe_site_id=site.pk,
    )
