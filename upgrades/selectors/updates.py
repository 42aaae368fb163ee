"""Reads: the update check (the hot path), sites and installations, rollout progress, adoption."""

from __future__ import annotations

import functools
import hashlib
import operator
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    Exists,
    F,
    FilteredRelation,
    JSONField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.db.models.expressions import RawSQL
from django.utils import timezone

from core.db import JoinedText, hot_cursor, summary
from marketplace.models import Listing
from marketplace.selectors import scope_catalogue, scope_catalogue_stamp
from upgrades.models import (
    NOT_RUNNING_STATES,
    Installation,
    RequestState,
    Site,
    Upgrade,
    UpgradeRequest,
    UpgradeState,
)
from versions import policies
from versions.models import Version
from versions.schemes import BUNDLE

CANDIDATE_FIELDS = (
    "id",
    "listing_id",
    "number",
    "sort_key",
    "build_number",
    "channel",
    "update_notes",
    "scopes",
    "pricing",
    "compatibility",
    "components",
    "state",
    "source",
)
# Issue #16: where a version's staged rollout stands (its rollout's bucket limit, else its plan).
CANDIDATE_STAGE = {"stage_rollout_limit": F("rollout__bucket_limit"), "stage_plan_stages": F("stage_plan__stages")}

# What the update check reads of each running installation (plain values: no model instances).
INSTALLATION_FIELDS = ("id", "state", "granted_scopes", "license", "listing_id", "version_id", "site_allowed")
INSTALLATION_RELATED = {
    "listing_key": F("listing__key"),
    "listing_name": F("listing__name"),
    "listing_scheme": F("listing__scheme"),
    "listing_visibility": F("listing__visibility"),
    "listing_vendor_id": F("listing__vendor_id"),
    "version_number": F("version__number"),
    "version_sort_key": F("version__sort_key"),
    "version_build_number": F("version__build_number"),
    "version_channel": F("version__channel"),
    "version_components": Case(  # an app group's components; read for app groups only
        When(listing__scheme=BUNDLE, then=F("version__components")), default=None, output_field=JSONField()
    ),
    "version_state": F("version__state"),
    # At most one of each (partial unique constraints): LEFT JOINs, no row is doubled.
    "request_id": F("open_request__id"),
    "request_to_version_id": F("open_request__to_version_id"),
    "upgrade_to_version_id": F("scheduled_upgrade__to_version_id"),
    "upgrade_due_at": F("scheduled_upgrade__due_at"),
    # Issue #16: the vendor's reason when the installed version was yanked (else None).
    "yank_reason": F("version__yank__reason"),
}


# --- the update check ---------------------------------------------------------------------


def _rows(queryset: QuerySet) -> list[dict[str, Any]]:
    """`queryset.values()` as a list of dicts. On PostgreSQL the compiled query is read through a
    prepared statement (_fetch): the ORM's per-value converters cost several times the query on
    this hot path."""
    if connection.vendor != "postgresql":
        return list(queryset)
    return _fetch(*queryset.query.sql_with_params())[1]


def _fetch(sql: str, params: tuple, names: tuple[str, ...] | None = None) -> tuple[tuple[str, ...], list[dict]]:
    """The rows of a compiled query as dicts, and its columns' names (PostgreSQL: core.db.hot_cursor;
    psycopg returns Python values, jsonb decoded by orjson). `names`: the names when the caller
    knows them from an earlier run (reading them off the cursor costs a tenth of the fetch)."""
    with hot_cursor(decode_json=True) as cursor:
        cursor.execute(sql, params)
        if names is None:
            names = tuple(column.name for column in cursor.description)
        return names, [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# Stands for the site's id in the SQL compiled once per process (see _compiled_for_site).
_SITE_MARK = -7_314_159


@functools.cache
def _compiled_for_site(build: Any) -> tuple[str, tuple]:
    """The SQL of `build(site_id=...)` compiled once: building and compiling the queryset on every
    check would cost more than running it. Only the site's id changes between calls: a filter
    added to _update_rows must take no other Python value that varies (use database functions
    such as Now() for the time, never timezone.now())."""
    return build(site_id=_SITE_MARK).query.sql_with_params()


def _site_rows(build: Any, site_id: int) -> list[dict[str, Any]]:
    if connection.vendor != "postgresql":
        return list(build(site_id=site_id))
    sql, params = _compiled_for_site(build)
    params = tuple(site_id if isinstance(p, int) and p == _SITE_MARK else p for p in params)
    names, rows = _fetch(sql, params, _SITE_ROW_NAMES.get(build))
    _SITE_ROW_NAMES[build] = names
    return rows


_SITE_ROW_NAMES: dict[Any, tuple[str, ...]] = {}  # per compiled query: its columns' names


# The candidates ride on the installation rows, their columns named candidate_<field>.
CANDIDATE_COLUMNS = {
    **{
        f"candidate_{name}": F(f"candidate__{name}")
        for name in CANDIDATE_FIELDS
        if name not in ("listing_id", "state", "components")
    },
    "candidate_components": Case(  # as version_components: app groups only
        When(listing__scheme=BUNDLE, then=F("candidate__components")), default=None, output_field=JSONField()
    ),
    "candidate_stage_rollout_limit": F("candidate__rollout__bucket_limit"),
    "candidate_stage_plan_stages": F("candidate__stage_plan__stages"),
    "candidate_yank_id": F("candidate__yank__id"),
}
_CANDIDATE_KEYS = tuple(name.removeprefix("candidate_") for name in CANDIDATE_COLUMNS if name != "candidate_yank_id")
_CANDIDATE_COLUMNS = operator.itemgetter(*(f"candidate_{name}" for name in _CANDIDATE_KEYS))


def _update_rows(*, site_id: int) -> QuerySet:
    """The site's running installations, each with the versions it may move to: ONE query of
    plain values, by listing key, a row per installation and candidate, newest candidate first
    (one row with empty candidate columns when there is none).

    An installation's columns: its listing, version, open request and scheduled upgrade (at most
    one of each: partial unique constraints), whether the site is among the listing's allowed
    sites. Its candidates (a LEFT JOIN): the released versions of its listing greater by
    precedence (the stored sort key) than the one it runs, with where their staged rollout stands
    (issue #16) and whether they were yanked (_installations_with_candidates drops those: a
    yanked version is offered to nobody). This is the place for a further filter on what may be
    offered at all; versions.policies decides, per installation, audience, host compatibility
    and consent.
    """
    return (
        Installation.objects.filter(site_id=site_id)
        .exclude(state__in=NOT_RUNNING_STATES)
        .annotate(
            open_request=FilteredRelation(
                "upgrade_requests", condition=Q(upgrade_requests__state=RequestState.PENDING)
            ),
            scheduled_upgrade=FilteredRelation("upgrades", condition=Q(upgrades__state=UpgradeState.SCHEDULED)),
            site_allowed=Exists(
                Listing.allowed_sites.through.objects.filter(site_id=site_id, listing_id=OuterRef("listing_id"))
            ),
            candidate=FilteredRelation(
                "listing__versions",
                condition=Q(
                    listing__versions__state__in=policies.RELEASED_STATES,
                    listing__versions__sort_key__gt=F("version__sort_key"),
                ),
            ),
        )
        .order_by("listing__key", "-candidate__sort_key")
        .values(*INSTALLATION_FIELDS, **INSTALLATION_RELATED, **CANDIDATE_COLUMNS)
    )


def _installations_with_candidates(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """_update_rows' rows folded: one dict per installation whose "candidates" lists the versions
    it may move to (newest first, yanked ones left out), each a dict of CANDIDATE_FIELDS and its
    stage (stage_rollout_limit, stage_plan_stages)."""
    installations: list[dict[str, Any]] = []
    current: dict[str, Any] = {"id": None}
    for row in rows:
        if row["id"] != current["id"]:
            current = row
            current["version_sort_key"] = bytes(row["version_sort_key"])
            current["candidates"] = []
            installations.append(current)
        if row["candidate_id"] is not None and row["candidate_yank_id"] is None:
            candidate = dict(zip(_CANDIDATE_KEYS, _CANDIDATE_COLUMNS(row), strict=True))
            candidate["sort_key"] = bytes(candidate["sort_key"])
            current["candidates"].append(candidate)
    return installations


def move_off_candidates(*, listing_ids: set[int]) -> QuerySet:
    """Issue #16: what an installation on a yanked version may move to: every released version of
    its listing that is not yanked, lower ones included, newest first (read only when a site runs
    a yanked version)."""
    return (
        Version.objects.filter(listing_id__in=listing_ids, state__in=policies.RELEASED_STATES, yank__isnull=True)
        .order_by("listing_id", "-sort_key")
        .values(*CANDIDATE_FIELDS, **CANDIDATE_STAGE)
    )


def _by_listing(candidates: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    by_listing: dict[int, list[dict[str, Any]]] = {}
    for version in candidates:
        version["sort_key"] = bytes(version["sort_key"])
        by_listing.setdefault(version["listing_id"], []).append(version)
    return by_listing


def _site_facts(site: Site) -> tuple[int | None, str, str]:
    """What _first_reaching reads of the site (once per check, not per installation)."""
    return site.sandbox_vendor_id, site.host_product.key, site.host_version


def _first_reaching(site: tuple, row: dict[str, Any], versions: list[dict[str, Any]], *, above: bytes | None):
    """The first of `versions` (newest first) that reaches the installation `row`: its stage came
    (issue #16) and versions.policies' audience and host rules hold. With `above`, only versions
    greater than that sort key; without, any but the installed one (a way off a yanked version).
    `site`: _site_facts."""
    sandbox_vendor_id, product_key, host_version = site
    scheme = row["listing_scheme"]
    private = row["listing_visibility"] == policies.PRIVATE_VISIBILITY
    for version in versions:
        if above is not None and version["sort_key"] <= above:
            return None
        if version["id"] == row["version_id"]:
            continue
        if version["stage_rollout_limit"] is not None or version["stage_plan_stages"]:  # staged (issue #16)
            limit = policies.stage_limit(
                rollout_limit=version["stage_rollout_limit"], plan_stages=version["stage_plan_stages"]
            )
            if not policies.stage_reached(row["id"], version["id"], limit):
                continue
        if policies.update_reaches(
            scheme=scheme,
            listing_private=private,
            listing_vendor_id=row["listing_vendor_id"],
            installed_channel=row["version_channel"],
            installed_components=row["version_components"],
            channel=version["channel"],
            components=version["components"],
            compatibility=version["compatibility"],
            site_sandbox_vendor_id=sandbox_vendor_id,
            site_allowed=row["site_allowed"],
            site_product_key=product_key,
            site_version=host_version,
        ):
            return version
    return None


class _ConsentMemo:
    """versions.policies.consent_reasons, remembered for one scope catalogue.

    The rules are a pure function of what they read: the scheme; the installed number, the
    granted scopes and the licence; the offered number, scopes, price and source; the site's
    automatic-update setting. The same moves recur across a marketplace's sites (every site on
    1.4.2 with the usual grants is asked about 1.5.0), so the update check keeps the answers
    per process, keyed on exactly those facts. Bounded; every call gets its own copies.
    """

    MAX = 20_000

    def __init__(self, catalogue: dict[str, int]) -> None:
        self.catalogue = catalogue
        self._answers: dict[tuple, list[dict[str, str]]] = {}

    def reasons(self, row: dict[str, Any], version: dict[str, Any], *, auto_update: bool) -> list[dict[str, str]]:
        granted = tuple(row["granted_scopes"] or ())
        scheme = row["listing_scheme"]
        key = (
            scheme,
            row["version_number"],
            granted,
            row["license"],
            version["number"],
            tuple(version["scopes"] or ()),
            version["pricing"],
            version["source"],
            auto_update,
        )
        answer = self._answers.get(key)
        if answer is None:
            installed = policies.Snapshot(row["version_number"], granted, row["license"])
            answer = policies.consent_reasons(
                installed, version, scheme, catalogue=self.catalogue, auto_update=auto_update
            )
            if len(self._answers) >= self.MAX:
                self._answers.clear()
            self._answers[key] = answer
        return [dict(reason) for reason in answer]


_CONSENT_MEMO: _ConsentMemo | None = None


def _consent_memo(catalogue: dict[str, int]) -> _ConsentMemo:
    """The memo of this catalogue: a new one whenever the catalogue differs (a scope added, or
    its sensitivity changed), compared once per check."""
    global _CONSENT_MEMO
    memo = _CONSENT_MEMO
    if memo is None or memo.catalogue != catalogue:
        memo = _CONSENT_MEMO = _ConsentMemo(catalogue)
    return memo


def _offers(site: Site, installations: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """For each installation (from _installations_with_candidates), the newest candidate that
    reaches it and why it needs consent.

    The rules are versions.policies' (the rollout applies the same ones), on plain values. An
    installation on a yanked version (issue #16) is offered the newest version that is not yanked
    and reaches it, even a lower one, with the reason (one more query, only when there is one).
    """
    yanked = [row for row in installations if row["yank_reason"]]
    off_by_listing = (
        _by_listing(_rows(move_off_candidates(listing_ids={row["listing_id"] for row in yanked}))) if yanked else {}
    )
    offers: dict[int, dict[str, Any]] = {}
    memo = None
    facts = _site_facts(site)
    auto_update = site.auto_update
    for row in installations:
        installed_key = row["version_sort_key"]
        if row["yank_reason"]:
            version = _first_reaching(facts, row, off_by_listing.get(row["listing_id"], []), above=None)
        else:
            version = _first_reaching(facts, row, row["candidates"], above=installed_key)
        if version is None:
            continue
        if memo is None:
            # The site-token lookup read the catalogue's stamp: no cache round trip while it holds.
            memo = _consent_memo(scope_catalogue(stamp=getattr(site, "scope_stamp", None)))
        offer = {"version": version, "reasons": memo.reasons(row, version, auto_update=auto_update)}
        if row["yank_reason"]:
            offer["move_off"] = policies.move_off_offer(
                installed_number=row["version_number"],
                yank_reason=row["yank_reason"],
                target_number=version["number"],
                target_is_lower=version["sort_key"] < installed_key,
            )
        offers[row["id"]] = offer
    return offers


def site_updates(*, site: Site) -> dict[str, Any]:
    """What a customer instance asks daily: per installation, the newest version it may move to,
    whether that needs consent and why, and what is already under way (open request, scheduled
    upgrade). The API renders this dict as it is (SiteUpdatesSerializer documents it).

    One query (the installations with their candidates) for 1 or 10,000 installations, plus the
    scope catalogue when it is not cached and the way off a yanked version when a site runs one
    (pinned in tests); `site` comes with its host product.
    """
    installations = _installations_with_candidates(_site_rows(_update_rows, site.pk))
    offers = _offers(site, installations) if installations else {}
    items = []
    available = 0
    for row in installations:
        offer = offers.get(row["id"])
        update = None
        if offer is not None:
            available += 1
            version = offer["version"]
            reasons = offer["reasons"]
            update = {
                "number": version["number"],
                "build_number": version["build_number"],
                "coordinates": f"{row['listing_key']}@{version['number']}",
                "channel": version["channel"],
                "update_notes": version["update_notes"],
                "consent_required": bool(reasons),
                "reasons": reasons,
                # Only the internal market's reminder waits: one click upgrades, no review page needed.
                "one_click": bool(reasons) and all(r["code"] == policies.INTERNAL_MARKET_UPDATE for r in reasons),
                # An app group's upgrade lists the components it updates.
                "components": (
                    policies.component_changes(row["version_components"], version["components"])
                    if row["listing_scheme"] == BUNDLE
                    else []
                ),
                "request": (
                    {"id": row["request_id"], "state": "pending"}
                    if row["request_id"] is not None and row["request_to_version_id"] == version["id"]
                    else None
                ),
                "scheduled_at": row["upgrade_due_at"] if row["upgrade_to_version_id"] == version["id"] else None,
            }
            if "move_off" in offer:  # issue #16: this offer moves the installation off a yanked version
                update["move_off"] = offer["move_off"]
        installed = {
            "number": row["version_number"],
            "build_number": row["version_build_number"],
            # A member installed it to test it before publication (upgrades.services.testing).
            "under_test": row["version_state"] not in policies.RELEASED_STATES,
        }
        if row["yank_reason"]:  # issue #16: the vendor's reason, only when the running version was yanked
            installed["yanked_reason"] = row["yank_reason"]
        items.append(
            {
                "installation": row["id"],
                "listing": row["listing_key"],
                "name": row["listing_name"],
                "state": row["state"],
                "installed": installed,
                "update": update,
            }
        )
    return {
        "site": site.pk,
        "checked_at": timezone.now(),
        "installations": len(items),
        "updates_available": available,
        "items": items,
    }


# --- the update check's fingerprint (ETag) ------------------------------------------------

# Bump when the answer's content changes for the same rows (a new field, other words in a reason).
UPDATE_FINGERPRINT_FORMAT = 3


def update_fingerprint_annotations() -> dict[str, Subquery]:
    """Scalar subqueries whose values change whenever the site's update check would answer differently.

    Annotations of a Site queryset, one pass over one table each. What they watch: the site's
    installations (count, last change, installed versions), the released versions of its
    listings (count and last change: a release, a yank or a stage change touches a version's
    updated_at), those listings (visibility, name), the allowed-site rows of the site, the open
    consent requests and scheduled upgrades (both only ever leave those states; new rows have
    larger ids) and the scope catalogue (the reasons name sensitivities). The site's own fields
    are read with it and join the hash in update_fingerprint.
    """
    site = OuterRef("pk")
    installations = Installation.objects.filter(site_id=site)
    # The site's listings as a semi-join: an index lookup per installation (a site has one
    # installation per listing), never a scan of every version or listing. (One level deeper:
    # the site is the outer query's outer query.)
    listing_ids = Installation.objects.filter(site_id=OuterRef(site)).values("listing_id")
    return {
        "fp_installations": summary(installations, ("pk", "COUNT"), ("updated_at", "MAX"), ("version_id", "SUM")),
        "fp_versions": summary(
            Version.objects.filter(listing_id__in=listing_ids, state__in=policies.RELEASED_STATES),
            ("pk", "COUNT"),
            ("updated_at", "MAX"),
        ),
        "fp_listings": summary(Listing.objects.filter(pk__in=listing_ids), ("updated_at", "MAX")),
        "fp_allowed": summary(Listing.allowed_sites.through.objects.filter(site_id=site), ("pk", "COUNT")),
        "fp_requests": summary(
            UpgradeRequest.objects.filter(installation__site_id=site, state=RequestState.PENDING),
            ("pk", "COUNT"),
            ("pk", "MAX"),
        ),
        "fp_upgrades": summary(
            Upgrade.objects.filter(installation__site_id=site, state=UpgradeState.SCHEDULED),
            ("pk", "COUNT"),
            ("pk", "MAX"),
            ("due_at", "MAX"),
        ),
        "fp_scopes": scope_catalogue_stamp(),
    }


def _update_state(site: Any) -> QuerySet:
    """The site's update state as one text value (the annotations above joined)."""
    annotations = update_fingerprint_annotations()
    return Site.objects.filter(pk=site).annotate(**annotations).values(state=JoinedText(*map(F, sorted(annotations))))


@functools.cache
def update_state_sql(site_column: str) -> tuple[str, tuple]:
    """_update_state as a scalar subquery correlated on `site_column` (e.g. the site token's
    "upgrades_sitetoken"."site_id"), compiled once per process: the site-token lookup carries it
    as RawSQL, so a 304 costs that one query and no query building on each request."""
    sql, params = _update_state(RawSQL(site_column, ())).query.sql_with_params()
    return f"({sql})", params


def update_fingerprint(site: Site, state: str | None) -> str:
    """The ETag of the site's update check: its update state (above) and the site's own fields that
    change an answer (host product and version, automatic updates, sandbox)."""
    parts = [UPDATE_FINGERPRINT_FORMAT, site.pk, site.host_product.key, site.host_version, site.auto_update]
    parts += [site.sandbox_vendor_id, state]
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def site_update_fingerprint(*, site: Site) -> str:
    """The fingerprint for a site already loaded (a signed-in admin's check): one query."""
    return update_fingerprint(site, _update_state(site.pk).values_list("state", flat=True).first())


def installation_update(installation: Installation) -> dict[str, Any] | None:
    """The one installation's offer (what the manual Upgrade button installs): the same rules as
    the update check; `version` is the Version row. `installation.site` comes with its host product."""
    site = installation.site
    rows = _installations_with_candidates(_rows(_update_rows(site_id=site.pk).filter(pk=installation.pk)))
    if not rows:
        return None
    offer = _offers(site, rows).get(installation.pk)
    if offer is None:
        return None
    return {**offer, "version": Version.objects.get(pk=offer["version"]["id"])}  # with move_off (issue #16)
