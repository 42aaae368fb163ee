"""Rollouts: offer a published version to the installations of its listing, chunk by chunk.

A chunk is read with one keyset query (`rollout_chunk_installations`, as
values, not model instances), the consent rules (versions.policies) are
applied in memory (once per distinct set of inputs), and the outcome is
written with a handful of bulk statements whatever the chunk's size (no query
per installation, and none whose cost grows with the installations already
processed): the upgrades, requests, audit rows and e-mails are built as
tuples and streamed with COPY (core.bulk.bulk_insert_rows*), and the lists
of ids go as one array each (`field__any`, core.lookups).
Measured by `python -m bench.scale`."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import partial
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django_fsm import can_proceed

from core.bulk import bulk_insert_rows_with_pks
from core.errors import TransitionNotAllowed
from core.services import audit_event, audit_record, audit_record_many, audit_record_rows, audit_row
from marketplace.models import Listing
from marketplace.permissions import require_vendor_member_or_staff
from marketplace.selectors import scope_catalogue
from upgrades import emails, tasks, windows
from upgrades.models import (
    NOT_RUNNING_STATES,
    Installation,
    InstallationState,
    RequestState,
    Rollout,
    RolloutState,
    Site,
    Upgrade,
    UpgradeRequest,
    UpgradeState,
)
from upgrades.selectors.stages import installations_in_stage
from upgrades.services._common import (
    UPGRADE,
    UPGRADE_REQUEST,
    installation_row,
    supersede_open_work,
)
from upgrades.services.stages import rollout_stage_waiting, rollout_stages_setup
from upgrades.services.webhooks import webhook_event_enqueue
from versions import policies
from versions.models import State as VersionState
from versions.models import Version
from versions.schemes import OCP, OCP_PRIVATE


def rollout_start(*, version_id: int) -> Rollout | None:
    """Create the version's rollout (once) and start processing it in chunks."""
    version = Version.objects.select_related("listing").filter(pk=version_id).first()
    if version is None or version.state != VersionState.PUBLISHED:
        return None  # already superseded: the newer version's rollout does the work
    with transaction.atomic():
        rollout, created = Rollout.objects.get_or_create(
            version=version, defaults={"listing": version.listing, "progressed_at": timezone.now()}
        )
        if created:
            now = timezone.now()
            audit_record(
                actor=None,
                action="rollout.start",
                obj=rollout,
                object_repr=_rollout_repr(version.listing, version),
                to_state=rollout.state,
                details={"version_id": version.pk, "listing_id": version.listing_id},
                at=now,
            )
            rollout_stages_setup(rollout=rollout, now=now)  # issue #16: a stage plan, if any
            # Older rollouts of the same channel stop here; their open work is superseded chunk by chunk.
            older = list(
                Rollout.objects.select_for_update(of=("self",))
                .filter(
                    listing_id=version.listing_id,
                    version__channel=version.channel,
                    state__in=[RolloutState.RUNNING, RolloutState.HALTED, RolloutState.COMPLETED],
                )
                .exclude(pk=rollout.pk)
                .values_list("pk", "state", "version__number")
            )
            if older:
                Rollout.objects.filter(pk__in=[pk for pk, _, _ in older]).update(
                    state=RolloutState.SUPERSEDED, finished_at=now
                )
                audit_record_many(
                    audit_event(
                        actor=None,
                        action="rollout.supersede",
                        object_type=ROLLOUT,
                        object_id=pk,
                        object_repr=f"{version.listing.key}@{number}",
                        from_state=state,
                        to_state=RolloutState.SUPERSEDED,
                        details={"reason": f"superseded by {version.number}"},
                        at=now,
                    )
                    for pk, state, number in older
                )
        if rollout.state == RolloutState.RUNNING:
            transaction.on_commit(partial(tasks.rollout_process.delay, rollout.pk, rollout.cursor))
    return rollout


ROLLOUT = "upgrades.rollout"


def _rollout_repr(listing: Listing, version: Version) -> str:
    return f"{listing.key}@{version.number}"


def _rollout_transition(rollout: Rollout, name: str, *, actor: Any, **details: Any) -> None:
    """Run transition `name` on a locked rollout, save it and write its audit row."""
    from_state = rollout.state
    getattr(rollout, name)(**({"actor": actor} if name == "halt" else {}))
    rollout.save()
    audit_record(
        actor=actor,
        action=f"rollout.{name}",
        obj=rollout,
        object_repr=_rollout_repr(rollout.listing, rollout.version),
        from_state=from_state,
        to_state=rollout.state,
        details=details,
    )
    if name in ("complete", "halt"):
        webhook_event_enqueue(
            listing=rollout.listing,
            event=f"rollout.{'completed' if name == 'complete' else 'halted'}",
            data={
                "listing": rollout.listing.key,
                "rolloutId": rollout.pk,
                "version": rollout.version.number,
                "targeted": rollout.targeted,
                "state": rollout.state,
            },
        )


def _needs_allowed(version: Version, listing: Listing) -> bool:
    return listing.visibility == Listing.Visibility.PRIVATE or (
        listing.scheme == OCP and version.channel == OCP_PRIVATE
    )


def rollout_chunk_installations(rollout: Rollout, *, after: int) -> QuerySet[Installation]:
    """The installations a chunk of the rollout looks at: the listing's running installations on an
    older version, after the cursor, in id order (keyset pagination), and in a staged rollout only
    those whose stage has come (issue #16: the stage bucket, computed in SQL).

    Every rule about who a chunk reaches that SQL can say belongs here, before
    the chunk's LIMIT. The index installation_rollout_keyset (listing_id, id)
    serves it: a chunk reads its own rows and no others, so its cost does not
    grow with the installations already processed. Rules that need Python (the
    consent and audience rules of versions.policies) run on the rows read.
    """
    installations = Installation.objects.filter(
        listing_id=rollout.listing_id, pk__gt=after, version__sort_key__lt=rollout.version.sort_key
    )
    installations = installations_in_stage(installations, version_id=rollout.version_id, limit=rollout.bucket_limit)
    return installations.exclude(state__in=NOT_RUNNING_STATES).order_by("pk")


# What a chunk reads of each installation, its version and its site (values: no model instances).
# The JSON columns are read as text (the *_json annotations) and decoded once per distinct text:
# a chunk's installations share a handful of scope lists and window plans.
_CHUNK_FIELDS = (
    "pk",
    "state",
    "granted_json",
    "license",
    "version_id",
    "version__number",
    "version__channel",
    "components_json",
    "site_id",
    "site__auto_update",
    "site__sandbox_vendor_id",
    "site__host_product__key",
    "site__host_version",
    "site__time_zone",
    "windows_json",
)


def _chunk_rows(rollout: Rollout, after: int, size: int) -> list[SimpleNamespace]:
    """One page of `rollout_chunk_installations`, each row shaped as versions.policies reads an
    installation (`.version`, `.granted_scopes`, `.license`, `.site`). Values decoded from JSON
    are shared between rows: read them, never change them."""
    rows, versions, products, decoded = [], {}, {}, {}

    def loads(text: str | None) -> Any:
        if text is None:
            return None
        value = decoded.get(text, decoded)
        if value is decoded:
            value = decoded[text] = json.loads(text)
        return value

    query = (
        rollout_chunk_installations(rollout, after=after)
        .annotate(
            granted_json=Cast("granted_scopes", TextField()),
            components_json=Cast("version__components", TextField()),
            windows_json=Cast("site__maintenance_windows", TextField()),
        )
        .values_list(*_CHUNK_FIELDS)
    )
    for row in query[:size]:
        pk, state, granted, license, version_id, number, channel, components = row[:8]
        site_id, auto, sandbox, product, host_version, tz, windows = row[8:]
        version = versions.get(version_id)
        if version is None:
            version = versions[version_id] = SimpleNamespace(
                pk=version_id, number=number, channel=channel, components=loads(components)
            )
        host_product = products.get(product)
        if host_product is None:
            host_product = products[product] = SimpleNamespace(key=product)
        site = SimpleNamespace(
            pk=site_id,
            auto_update=auto,
            sandbox_vendor_id=sandbox,
            host_product=host_product,
            host_version=host_version,
            time_zone=tz,
            maintenance_windows=loads(windows),
        )
        rows.append(
            SimpleNamespace(
                pk=pk, state=state, version=version, granted_scopes=loads(granted), license=license, site=site
            )
        )
    return rows


def _spread(installation_id: int, window: timedelta) -> timedelta:
    """A stable place for the installation inside the auto-update window (spreads the load)."""
    if not window:
        return timedelta(0)
    return timedelta(seconds=window.total_seconds() * ((installation_id * 2654435761) % 1000) / 1000)


def upgrade_due_for(site: Site, installation_id: int, now: datetime) -> datetime:
    wanted = now + _spread(installation_id, settings.UPGRADE_AUTO_WINDOW)
    return windows.upgrade_due_at(
        wanted, site.maintenance_windows or [], site.time_zone, settings.UPGRADE_MAINTENANCE_MAX_DELAY
    )


def rollout_process_chunk(*, rollout_id: int, now: datetime | None = None, expected_cursor: int | None = None) -> int:
    """Offer the rollout's version to the next chunk of installations; returns how many were looked at.

    One chunk costs a fixed number of queries: lock the rollout, read the
    chunk, supersede older open work, bulk-create upgrades and requests and
    their e-mails (the outbox), flag the installations, move the cursor.
    0 means the rollout is done, halted, or its chunk is in flight elsewhere.

    The rollout row's lock is the chunk's lease: a second worker (a duplicate
    message, or beat's watcher) skips a locked rollout instead of waiting and
    then repeating the chunk; the cursor moves in the chunk's own transaction.
    `expected_cursor` is where the message's sender left the rollout: a message
    that finds the cursor moved on is a duplicate (another chain did its chunk)
    and stops, so duplicate chains die out instead of multiplying.
    """
    now = now or timezone.now()
    with transaction.atomic():
        rollout = (
            Rollout.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("version", "listing")
            .filter(pk=rollout_id)
            .first()
        )
        if rollout is None or rollout.state != RolloutState.RUNNING:
            return 0
        if expected_cursor is not None and rollout.cursor != expected_cursor:
            return 0
        version, listing = rollout.version, rollout.listing
        if version.state != VersionState.PUBLISHED:
            _rollout_transition(rollout, "supersede", actor=None, reason=f"{version.number} is {version.state}")
            return 0
        if hasattr(version, "yank"):  # issue #16: a yanked version is offered to nobody
            _rollout_transition(rollout, "halt", actor=None, reason=f"{version.number} was yanked")
            return 0
        catalogue = scope_catalogue()
        size = settings.ROLLOUT_CHUNK_SIZE
        cursor, looked = rollout.cursor, 0
        # (installation id, from version id, due at) and (installation id, from version id, reasons):
        # tuples, streamed as they are (core.bulk.bulk_insert_rows_with_pks), no model instances.
        new_upgrades: list[tuple[int, int, datetime]] = []
        new_requests: list[tuple[int, int, list]] = []
        states: dict[int, str] = {}  # installation id: its state as read (under the rollout's lock)
        site_of: dict[int, int] = {}
        # The rules of versions.policies are pure: each is asked once per distinct set of the
        # values it reads (a chunk's installations share a handful), not once per installation.
        reaches: dict[tuple, bool] = {}
        consent: dict[tuple, list[dict[str, str]]] = {}
        # Pages whose installations were all offered this version already (a chunk run again after
        # its cursor was reset, an upgrade asked for by hand) or are out of its reach are passed in
        # the same chunk: a chunk ends with something offered, or at the end of the listing.
        while not (new_upgrades or new_requests):
            page = _chunk_rows(rollout, cursor, size)
            if not page:
                break
            cursor, looked = page[-1].pk, looked + len(page)
            ids = [i.pk for i in page]
            offered_before = set(
                Upgrade.objects.filter(installation_id__any=ids, to_version=version)
                .order_by()
                .values_list("installation_id", flat=True)
                .union(
                    UpgradeRequest.objects.filter(installation_id__any=ids, to_version=version)
                    .order_by()
                    .values_list("installation_id", flat=True)
                )
            )
            allowed: set[int] = set()
            if _needs_allowed(version, listing):
                allowed = set(
                    listing.allowed_sites.filter(pk__any=list({i.site.pk for i in page})).values_list("pk", flat=True)
                )
            for installation in page:
                if installation.pk in offered_before:
                    continue
                site, installed = installation.site, installation.version
                site_allowed = site.pk in allowed
                key = (installed.pk, site.sandbox_vendor_id, site_allowed, site.host_product.key, site.host_version)
                reached = reaches.get(key)
                if reached is None:
                    reached = reaches[key] = policies.version_reaches(
                        version, listing=listing, installation=installation, site=site, site_allowed=site_allowed
                    )
                if not reached:
                    continue
                states[installation.pk], site_of[installation.pk] = installation.state, site.pk
                key = (installed.number, tuple(installation.granted_scopes), installation.license, site.auto_update)
                reasons = consent.get(key)
                if reasons is None:
                    reasons = consent[key] = policies.consent_reasons(
                        installation, version, listing, catalogue=catalogue, auto_update=site.auto_update
                    )
                if reasons:
                    new_requests.append((installation.pk, installed.pk, reasons))
                else:
                    new_upgrades.append((installation.pk, installed.pk, upgrade_due_for(site, installation.pk, now)))
        if not (new_upgrades or new_requests):
            if rollout_stage_waiting(rollout):  # issue #16: this stage is offered; wait for the next
                Rollout.objects.filter(pk=rollout.pk).update(cursor=cursor, progressed_at=now)
                return 0
            if looked:
                rollout.cursor, rollout.progressed_at = cursor, now
            _rollout_transition(rollout, "complete", actor=None, targeted=rollout.targeted)
            return 0
        upgraded = [u[0] for u in new_upgrades]
        asked = [r[0] for r in new_requests]
        offered = upgraded + asked
        # A newer version supersedes what is still open for an older one.
        supersede_open_work(
            installations={"installation_id__any": offered}, outcome=f"superseded by {version.number}", now=now
        )
        upgrade_pks = bulk_insert_rows_with_pks(
            Upgrade,
            ("installation_id", "rollout_id", "from_version_id", "to_version_id", "due_at"),
            [(i, rollout.pk, from_id, version.pk, due_at) for i, from_id, due_at in new_upgrades],
        )
        if upgraded:
            Installation.objects.filter(pk__any=upgraded, state=InstallationState.PENDING_CONSENT).update(
                state=InstallationState.ACTIVE, updated_at=now
            )
        request_pks = bulk_insert_rows_with_pks(
            UpgradeRequest,
            ("installation_id", "rollout_id", "from_version_id", "to_version_id", "reasons"),
            [(i, rollout.pk, from_id, version.pk, reasons) for i, from_id, reasons in new_requests],
        )
        if asked:
            Installation.objects.filter(pk__any=asked).update(state=InstallationState.PENDING_CONSENT, updated_at=now)
        made_upgrades = list(zip(upgrade_pks, new_upgrades, strict=True))
        made_requests = list(zip(request_pks, new_requests, strict=True))
        audit_record_rows(_chunk_events(rollout, made_upgrades, made_requests, states, now))
        Rollout.objects.filter(pk=rollout.pk).update(
            targeted=F("targeted") + len(offered),
            chunks_processed=F("chunks_processed") + 1,
            cursor=cursor,
            progressed_at=now,
        )
        # The consent e-mails are queued with their requests: a crash after this commit loses none.
        sites = {pk: site_of[r[0]] for pk, r in made_requests}
        if new_requests and emails.outbox_add_requests([], sites=sites, new_requests=True):
            transaction.on_commit(tasks.send_outbox.delay)
        if any(due_at <= now for _, _, due_at in new_upgrades):
            transaction.on_commit(tasks.upgrade_apply_due.delay)
        transaction.on_commit(partial(tasks.rollout_process.delay, rollout.pk, cursor))
    return looked


def _chunk_events(
    rollout: Rollout,
    new_upgrades: Iterable[tuple[int, tuple[int, int, datetime]]],
    new_requests: Iterable[tuple[int, tuple[int, int, list]]],
    states: dict[int, str],
    now: datetime,
) -> list[tuple]:
    """The audit rows of one chunk (tuples, core.services.audit_row, written with one COPY): each new
    upgrade and request (pk, and its tuple as the chunk made it), and each installation whose state
    moved (`states`: as the chunk read them, under the rollout's lock)."""
    version, name = rollout.version, rollout.listing.name
    number = version.number
    object_repr = f"{name} {number}"
    common = {"actor": None, "at": now}
    details = {"rollout_id": rollout.pk, "to_version": number}
    activated = {**details, "reason": f"{number} needs no consent"}
    events = []
    for pk, (installation_id, _, due_at) in new_upgrades:
        events.append(
            audit_row(
                action="upgrade.schedule",
                object_type=UPGRADE,
                object_id=pk,
                object_repr=object_repr,
                to_state=UpgradeState.SCHEDULED,
                details={**details, "installation_id": installation_id, "due_at": due_at.isoformat()},
                **common,
            )
        )
        if states[installation_id] == InstallationState.PENDING_CONSENT:
            events.append(
                installation_row(
                    action="installation.activate",
                    installation_id=installation_id,
                    name=name,
                    from_state=InstallationState.PENDING_CONSENT,
                    to_state=InstallationState.ACTIVE,
                    details=activated,
                    **common,
                )
            )
    for pk, (installation_id, _, reasons) in new_requests:
        events.append(
            audit_row(
                action="upgrade_request.create",
                object_type=UPGRADE_REQUEST,
                object_id=pk,
                object_repr=object_repr,
                to_state=RequestState.PENDING,
                details={**details, "installation_id": installation_id, "reasons": [r.get("code") for r in reasons]},
                **common,
            )
        )
        if states[installation_id] != InstallationState.PENDING_CONSENT:
            events.append(
                installation_row(
                    action="installation.await_consent",
                    installation_id=installation_id,
                    name=name,
                    from_state=states[installation_id],
                    to_state=InstallationState.PENDING_CONSENT,
                    details={**details, "request_id": pk},
                    **common,
                )
            )
    return events


def rollout_halt(*, rollout: Rollout, actor: Any) -> Rollout:
    """Stop scheduling and applying (consent requests already sent stay open)."""
    with transaction.atomic():
        rollout = (
            Rollout.objects.select_for_update(of=("self",)).select_related("listing", "version").get(pk=rollout.pk)
        )
        require_vendor_member_or_staff(actor, rollout.listing.vendor_id)
        if not can_proceed(rollout.halt):
            raise TransitionNotAllowed(
                f"The rollout of {rollout.version.number} is {rollout.state}: only a running rollout can be halted."
            )
        _rollout_transition(rollout, "halt", actor=actor)
    return rollout


def rollout_resume(*, rollout: Rollout, actor: Any) -> Rollout:
    with transaction.atomic():
        rollout = (
            Rollout.objects.select_for_update(of=("self",)).select_related("listing", "version").get(pk=rollout.pk)
        )
        require_vendor_member_or_staff(actor, rollout.listing.vendor_id)
        if not can_proceed(rollout.resume):
            raise TransitionNotAllowed(
                f"The rollout of {rollout.version.number} is {rollout.state}: only a halted rollout can be resumed."
            )
        # halted_by/halted_at are kept (who halted last); the resume row names both as well.
        rollout.progressed_at = timezone.now()
        _rollout_transition(
            rollout,
            "resume",
            actor=actor,
            halted_by=rollout.halted_by.get_username() if rollout.halted_by_id else "",
            halted_at=rollout.halted_at.isoformat() if rollout.halted_at else "",
        )
        transaction.on_commit(partial(tasks.rollout_process.delay, rollout.pk, rollout.cursor))
        transaction.on_commit(tasks.upgrade_apply_due.delay)
    return rollout


def rollouts_resume_stalled(*, now: datetime | None = None) -> list[int]:
    """Enqueue the next chunk of every running rollout that has not moved for ROLLOUT_STALL_AFTER.

    A rollout's progress is its cursor in the database; its next chunk is
    normally enqueued after each chunk's commit. That message can be lost (a
    worker killed between the commit and the enqueue, a broker that lost its
    queue, a message waiting out a visibility timeout): beat calls this every
    ROLLOUT_WATCH_INTERVAL, so a lost message costs at most about that long
    past the stall threshold. A chunk in flight holds the rollout's row lock;
    such rollouts are skipped here and the chunk skips a locked row, so the
    same chunk is never processed twice. Returns the rollouts restarted.
    """
    now = now or timezone.now()
    cutoff = now - settings.ROLLOUT_STALL_AFTER
    with transaction.atomic():
        stalled = list(
            Rollout.objects.select_for_update(of=("self",), skip_locked=True)
            .filter(state=RolloutState.RUNNING)
            .filter(Q(progressed_at__lt=cutoff) | Q(progressed_at__isnull=True, created_at__lt=cutoff))
            .values_list("pk", "cursor")
        )
        for pk, cursor in stalled:
            transaction.on_commit(partial(tasks.rollout_process.delay, pk, cursor))
    return [pk for pk, _ in stalled]


def rollouts_start_missing(*, now: datetime | None = None) -> list[int]:
    """Enqueue the start of every recently published version that has no rollout yet.

    The publish hook enqueues the start after the publishing commits; a worker
    killed (or a broker restarted) before it ran loses that message. Versions
    published within ROLLOUT_START_LOOKBACK count: older ones were published
    before rollouts existed, and starting those now would surprise everybody.
    Returns the versions whose start was enqueued.
    """
    now = now or timezone.now()
    missing = list(
        Version.objects.filter(
            state=VersionState.PUBLISHED,
            published_at__lt=now - settings.ROLLOUT_STALL_AFTER,
            published_at__gte=now - settings.ROLLOUT_START_LOOKBACK,
            rollout__isnull=True,
        ).values_list("pk", flat=True)[:100]
    )
    for pk in missing:
        transaction.on_commit(partial(tasks.rollout_start_task.delay, pk))
    return missing
