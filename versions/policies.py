"""The marketplace's rules about versions reaching customers (pure: no database).

Services, selectors, the reviewer diff, the vendor preview, the update check
and product migration all ask this module, so they can never disagree. It sits
below all of them (versions is the lowest app that knows versions): nothing
here reads the database or imports a service or selector; the caller fetches
the rows and hands them in as plain values or loaded objects.

Consent, by numbering scheme (DESIGN.md section 5):

- manual: the app asks for more than the customer granted (every scope that
  widens access is a reason of its own, named), or its price goes from free to
  paid;
- connect, forge (the source documents' classes: the MINOR, resp. MAJOR, the
  portal makes because scopes changed or the price went free -> paid): every
  scope added, replaced by another or removed is a reason of its own, named
  ("scope removed: read:jira-work"), and so is free -> paid;
- ocp: a MAJOR upgrade waits for the customer admin's manual "Upgrade";
  MINOR and PATCH upgrades are applied automatically;
- bundle: never (an installation follows its components), except an update
  that reached this portal through the internal market (a mirrored version):
  the site's admins are reminded and upgrade with one click, as the Rainbond
  seed's internal market does; other mirrored versions keep their scheme's rules;
- and a site that turned automatic updates off approves every upgrade.

Also here: which states count as released, whether a version reaches an
installation (audience, private listings, sandboxes, host compatibility), the
bump check of vendor-typed numbers (manual; breaking changes in manual and OCP), and why a beta can't be shared or installed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from core.errors import ApplicationError, TransitionNotAllowed
from marketplace.scopes import SENSITIVITY_NAMES, ScopeChange, scope_change, scope_resource
from versions.numbers import MAJOR, VersionNumber, VersionNumberError, parse_version
from versions.schemes import BUNDLE, MANUAL, OCP, OCP_BETA, OCP_DEV, OCP_PRIVATE, check_manual_bump
from versions.validation import product_version_in_range

# State values of the rows the rules look at (the models' choices hold the same strings;
# a pure module compares values and imports no model).
PUBLISHED, SUPERSEDED, CANCELED, REJECTED = "published", "superseded", "canceled", "rejected"
# Released: live in its channel, or live once and superseded since. Only released versions
# are offered to sites, and their fields never change again.
RELEASED_STATES = (PUBLISHED, SUPERSEDED)
# A number held by a version in these states can be taken by another version of the listing.
NUMBER_RELEASED_STATES = (CANCELED, REJECTED)
PRIVATE_VISIBILITY = "private"
DEACTIVATED_INSTALLATION = "deactivated"

SCOPE_ADDED = "scope_added"
SCOPE_REMOVED = "scope_removed"
SCOPE_REPLACED = "scope_replaced"
FREE_TO_PAID = "free_to_paid"
MAJOR_UPGRADE = "major_upgrade"
AUTO_UPDATE_OFF = "auto_update_off"
INTERNAL_MARKET_UPDATE = "internal_market_update"
MIRROR_SOURCE = "mirror"  # versions.models.Source.MIRROR

SCHEMES_ASKING_FOR_SCOPES_AND_PRICE = ("manual", "connect", "forge")
# Schemes whose vendor types the number, so marking a version as breaking asks for a MAJOR bump.
BREAKING_SCHEMES = ("manual", "ocp")
# The descriptor-driven schemes ask about every scope change, not only increases: their
# version classes (connect MINOR, forge MAJOR) are made by any change of the scope list.
SCHEMES_ASKING_FOR_EVERY_SCOPE_CHANGE = ("connect", "forge")


@dataclass(frozen=True)
class Snapshot:
    """What consent is judged on: a number, the scopes and the price.

    For an installation, `scopes` are the scopes its admins granted and
    `pricing` its license; for a candidate version, the version's own.
    """

    number: str
    scopes: tuple[str, ...] = ()
    pricing: str = "free"

    @classmethod
    def of(cls, obj: Any) -> Snapshot:
        if isinstance(obj, Snapshot):
            return obj
        if isinstance(obj, Mapping):
            return cls(str(obj["number"]), tuple(obj.get("scopes") or ()), obj.get("pricing") or "free")
        return cls(str(obj.number), tuple(getattr(obj, "scopes", ()) or ()), getattr(obj, "pricing", "free") or "free")

    @classmethod
    def of_installation(cls, installation: Any) -> Snapshot:
        """What a site has now: its installed version's number, the scopes granted, its license.

        A Snapshot passes through (the update check reads plain values, not model instances).
        """
        if isinstance(installation, Snapshot):
            return installation
        return cls(installation.version.number, tuple(installation.granted_scopes), installation.license)


def free_to_paid(old_pricing: str | None, new_pricing: str | None) -> bool:
    """The app starts costing money: customers must consent, and a manual bump must say so."""
    return old_pricing == "free" and new_pricing == "paid"


@dataclass(frozen=True)
class Reason:
    code: str
    text: str  # the full sentence (e-mails, the approval page)
    scope: str = ""
    sensitivity: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)
    short: str = ""  # the compact form for previews and queues ("new scope write:jira-work")

    def __str__(self) -> str:
        return self.short or self.text

    def as_dict(self) -> dict[str, str]:
        data = {"code": self.code, "text": self.text}
        if self.scope:
            data["scope"] = self.scope
            data["sensitivity"] = self.sensitivity
        return data


def upgrade_requires_consent(
    installed: Any,
    candidate: Any,
    listing: Any,
    *,
    catalogue: Mapping[str, int] | None = None,
) -> list[Reason]:
    """The reasons a site's admin must approve moving `installed` -> `candidate`.

    `installed` and `candidate` are anything with `number`, `scopes` and
    `pricing` (a Snapshot, a mapping, a Version); `listing` anything with a
    `scheme` (or the scheme's name). `catalogue` is {scope: sensitivity}
    (marketplace.selectors.scope_catalogue()); unknown scopes count as the most
    sensitive. An empty list means the upgrade may be applied automatically.
    """
    scheme = listing if isinstance(listing, str) else getattr(listing, "scheme", None) or listing["scheme"]
    # The update check asks this for every installation with an offer: read the three facts
    # without building Snapshots, and skip the scope comparison when no scope was added (or, for
    # connect and forge, none changed), which is what most upgrades are.
    old_number, old_scopes, old_pricing = _consent_facts(installed)
    new_number, new_scopes, new_pricing = _consent_facts(candidate)
    reasons: list[Reason] = []
    if scheme in SCHEMES_ASKING_FOR_EVERY_SCOPE_CHANGE:
        if set(old_scopes) != set(new_scopes):
            reasons += scope_change_reasons(old_scopes, new_scopes, catalogue)
        if free_to_paid(old_pricing, new_pricing):
            reasons.append(_free_to_paid_reason())
    elif scheme in SCHEMES_ASKING_FOR_SCOPES_AND_PRICE:
        added = not set(new_scopes) <= set(old_scopes)
        change = scope_change(old_scopes, new_scopes, catalogue or {}) if added else _NO_SCOPE_CHANGE
        for scope in change.increased:
            level = SENSITIVITY_NAMES[change.sensitivity[scope]]
            known = catalogue is not None and scope in catalogue
            text = (
                f"new scope {scope} ({level})"
                if known
                else f"new scope {scope} (not in the catalogue: treated as {level})"
            )
            reasons.append(Reason(SCOPE_ADDED, text, scope=scope, sensitivity=level, short=f"new scope {scope}"))
        if free_to_paid(old_pricing, new_pricing):
            reasons.append(_free_to_paid_reason())
    elif scheme == "ocp":
        before, after = parse_version(old_number), parse_version(new_number)
        if after.major > before.major:
            reasons.append(
                Reason(
                    MAJOR_UPGRADE,
                    f"major upgrade {before.major}.x -> {after.major}.x: OCP applies it only when an admin clicks Upgrade",
                    short=f"major upgrade {before.major}.x -> {after.major}.x",
                )
            )
    return reasons


_NO_SCOPE_CHANGE = ScopeChange()


def _consent_facts(obj: Any) -> tuple[str, Iterable[str], str]:
    """(number, scopes, pricing) of what Snapshot.of accepts, read as Snapshot.of reads them."""
    if type(obj) is dict or isinstance(obj, Mapping):  # a dict first: an ABC check costs more
        return str(obj["number"]), obj.get("scopes") or (), obj.get("pricing") or "free"
    if isinstance(obj, Snapshot):
        return obj.number, obj.scopes, obj.pricing
    return str(obj.number), getattr(obj, "scopes", ()) or (), getattr(obj, "pricing", "free") or "free"


def _free_to_paid_reason() -> Reason:
    return Reason(FREE_TO_PAID, "price: free -> paid (the site starts paying for the app)", short="price: free -> paid")


def _level_note(scope: str, level: str, catalogue: Mapping[str, int] | None) -> str:
    known = catalogue is not None and scope in catalogue
    return f"({level})" if known else f"(not in the catalogue: treated as {level})"


def scope_change_reasons(
    old_scopes: Iterable[str], new_scopes: Iterable[str], catalogue: Mapping[str, int] | None = None
) -> list[Reason]:
    """Connect and forge: one named reason per scope added, replaced or removed.

    A scope removed and one added on the same resource (read:jira-work ->
    write:jira-work) is one replacement; every other change stands alone.
    Removing a scope narrows what the app may do, but the source documents
    still class the version as one the customer approves.
    """
    change = scope_change(old_scopes, new_scopes, catalogue or {})
    added_by_resource: dict[str, list[str]] = {}
    for scope in change.added:
        added_by_resource.setdefault(scope_resource(scope), []).append(scope)
    reasons: list[Reason] = []
    replaced: set[str] = set()
    for scope in change.removed:
        partners = added_by_resource.get(scope_resource(scope), [])
        partner = next((p for p in partners if p not in replaced), None)
        if partner is None:
            level = SENSITIVITY_NAMES[change.sensitivity[scope]]
            reasons.append(
                Reason(
                    SCOPE_REMOVED,
                    f"scope removed: {scope}",
                    scope=scope,
                    sensitivity=level,
                    short=f"scope removed: {scope}",
                )
            )
            continue
        replaced.add(partner)
        level = SENSITIVITY_NAMES[change.sensitivity[partner]]
        reasons.append(
            Reason(
                SCOPE_REPLACED,
                f"scope replaced: {scope} -> {partner} {_level_note(partner, level, catalogue)}",
                scope=partner,
                sensitivity=level,
                short=f"scope replaced: {scope} -> {partner}",
                extra={"replaces": scope},
            )
        )
    for scope in change.added:
        if scope in replaced:
            continue
        level = SENSITIVITY_NAMES[change.sensitivity[scope]]
        reasons.append(
            Reason(
                SCOPE_ADDED,
                f"new scope {scope} {_level_note(scope, level, catalogue)}",
                scope=scope,
                sensitivity=level,
                short=f"new scope {scope}",
            )
        )
    return reasons


def consent_reasons(
    installation: Any,
    candidate: Any,
    listing: Any,
    *,
    catalogue: Mapping[str, int] | None,
    auto_update: bool,
) -> list[dict[str, str]]:
    """Why this installation's admins must act before `candidate` is installed (empty: automatic).

    `installation` is anything with `version.number`, `granted_scopes` and
    `license` (what its admins granted). `auto_update` is the site's setting:
    a site that turned automatic updates off approves every upgrade; an upgrade
    the admin asked for themselves (a beta link, a product move) passes True.
    """
    reasons = [
        r.as_dict()
        for r in upgrade_requires_consent(
            Snapshot.of_installation(installation), candidate, listing, catalogue=catalogue
        )
    ]
    if waits_for_one_click_upgrade(candidate, listing):
        reasons.append(
            {
                "code": INTERNAL_MARKET_UPDATE,
                "text": "an update of this app group arrived through the internal market: "
                "it is installed when a site admin clicks Upgrade",
            }
        )
    if not reasons and not auto_update:
        reasons.append({"code": AUTO_UPDATE_OFF, "text": "automatic updates are turned off for this site"})
    return reasons


def waits_for_one_click_upgrade(candidate: Any, listing: Any) -> bool:
    """An app group's update that came through the internal market (a mirrored version) is not
    applied by the rollout: the site's admins are reminded and upgrade it themselves.

    `candidate` is anything with a `source` (a Version, or a mapping of a version's values; a
    Snapshot has none and never waits); `listing` anything with a `scheme` (or the scheme's name).
    """
    scheme = listing if isinstance(listing, str) else getattr(listing, "scheme", None)
    if scheme != BUNDLE:  # decided before reading `source` (a deferred field of a partly loaded Version)
        return False
    source = candidate.get("source") if isinstance(candidate, Mapping) else getattr(candidate, "source", None)
    return source == MIRROR_SOURCE


def scope_changes_for_display(
    installed_scopes: Iterable[str], candidate_scopes: Iterable[str], catalogue: Mapping[str, int] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Scopes added and removed, each with its sensitivity, for the approval page."""
    change = scope_change(installed_scopes, candidate_scopes, catalogue or {})
    increased = set(change.increased)

    def row(scope: str) -> dict[str, Any]:
        level = change.sensitivity[scope]
        return {
            "scope": scope,
            "sensitivity": SENSITIVITY_NAMES[level],
            "level": level,
            "known": bool(catalogue) and scope in catalogue,
            "increase": scope in increased,
        }

    return {"added": [row(s) for s in change.added], "removed": [row(s) for s in change.removed]}


def price_change(installed_pricing: str, candidate_pricing: str) -> str:
    """'' when the price stays; otherwise 'free -> paid' or 'paid -> free'."""
    return "" if installed_pricing == candidate_pricing else f"{installed_pricing} -> {candidate_pricing}"


# --- who a version may reach (pure) -----------------------------------------------------


def audience_refusal(
    *,
    scheme: str,
    channel: str,
    listing_private: bool,
    listing_vendor_id: int,
    site_sandbox_vendor_id: int | None,
    site_allowed: bool,
    installed_channel: str,
) -> str:
    """'' when a version of this channel may reach this site's installation, else why not.

    Private listings reach only their allowed sites. OCP audiences by tag:
    -dev only the vendor's own sandbox site, -beta only installations that came
    through a beta share link (they run a beta), -private only allowed sites,
    no tag everyone. Other schemes: the release channel reaches everyone, any
    other channel only installations already on it.
    """
    if listing_private and not site_allowed:
        return "the listing is private and this site is not among its allowed sites"
    if scheme == OCP:
        sandbox = sandbox_refusal(
            scheme=scheme,
            channel=channel,
            listing_vendor_id=listing_vendor_id,
            site_sandbox_vendor_id=site_sandbox_vendor_id,
        )
        if sandbox:
            return sandbox
        if channel == OCP_BETA and installed_channel != OCP_BETA:
            return "-beta versions reach only installations that joined through a beta share link"
        if channel == OCP_PRIVATE and not site_allowed:
            return "-private versions reach only the sites the vendor allowed"
        return ""
    if channel == "release" or installed_channel == channel:
        return ""
    return f"the {channel} channel reaches only installations already on it"


def sandbox_refusal(*, scheme: str, channel: str, listing_vendor_id: int, site_sandbox_vendor_id: int | None) -> str:
    """'' unless this is an OCP -dev version and the site is not its vendor's own sandbox.

    OCP: "-dev versions are limited to running in your associated account, are
    not shareable". Every path that puts a version on a site asks this (through
    audience_refusal or directly): rollouts, the update check and manual
    upgrade, product-migration offers, members' installs, installation_create.
    """
    if scheme == OCP and channel == OCP_DEV and site_sandbox_vendor_id != listing_vendor_id:
        return "-dev versions reach only the vendor's own sandbox site"
    return ""


def install_refusal(
    *,
    scheme: str,
    channel: str,
    listing_private: bool,
    listing_vendor_id: int,
    site_sandbox_vendor_id: int | None,
    site_allowed: bool,
    invited: bool = False,
) -> str:
    """'' when a version of this channel may be installed on a site that does not run the listing yet.

    The audience rules of a rollout, for a first install: an OCP -dev version
    only on the vendor's own sandbox site, -private only on allowed sites, a
    private listing only on its allowed sites. An OCP -beta needs an invitation
    (`invited`: a beta share link, or the version's members chosen by the vendor).
    """
    ocp_beta_uninvited = scheme == OCP and channel == OCP_BETA and not invited
    return audience_refusal(
        scheme=scheme,
        channel=channel,
        listing_private=listing_private,
        listing_vendor_id=listing_vendor_id,
        site_sandbox_vendor_id=site_sandbox_vendor_id,
        site_allowed=site_allowed,
        installed_channel="" if ocp_beta_uninvited else channel,
    )


def version_in_audience(**audience: Any) -> bool:
    """May a version of this channel reach this site's installation? (audience_refusal says why not.)"""
    return not audience_refusal(**audience)


def host_compatible(compatibility: Iterable[Mapping[str, str]], product_key: str, product_version: str) -> bool:
    """No compatibility entries: runs on every host; otherwise the site's product and version must match one."""
    if not compatibility:
        return True
    entries = list(compatibility)
    if not entries:
        return True
    return any(e.get("product") == product_key and product_version_in_range(product_version, e) for e in entries)


def describe_compatibility(compatibility: Iterable[Mapping[str, str]], product_names: Mapping[str, str]) -> str:
    """'Jira 9.0 to 10.9, Confluence 8.0 or later' — what a customer reads; '' for every host."""
    parts = []
    for e in compatibility or ():
        name = product_names.get(e.get("product", ""), e.get("product", ""))
        low, high = e.get("min"), e.get("max")
        if low and high:
            parts.append(f"{name} {low} to {high}")
        elif low:
            parts.append(f"{name} {low} or later")
        elif high:
            parts.append(f"{name} up to {high}")
        else:
            parts.append(f"{name} (every version)")
    return ", ".join(parts)


def host_refusal(
    *,
    listing_name: str,
    listing_products: Mapping[str, str],
    compatibility: Iterable[Mapping[str, str]],
    site_product_key: str,
    site_product_name: str,
    site_version: str,
) -> str:
    """'' when the app runs on the site's host; otherwise why not, in words a site admin reads.

    Two things must hold on every install path (storefront, API, beta link,
    product migration): the listing names the site's host product among its
    products (`listing_products` key -> name; none named: every product), and the
    version's compatibility entries admit the site's product and version.
    """
    host = f"{site_product_name} {site_version}".strip()
    if listing_products and site_product_key not in listing_products:
        return f"{listing_name} runs on {', '.join(sorted(listing_products.values()))}, not on {site_product_name}"
    if not host_compatible(compatibility, site_product_key, site_version):
        names = {**listing_products, site_product_key: site_product_name}
        supported = describe_compatibility(compatibility, names)
        return f"{listing_name} supports {supported}, not {host}"
    return ""


def version_reaches(version: Any, *, listing: Any, installation: Any, site: Any, site_allowed: bool) -> bool:
    """Audience and host compatibility of a released `version` for one installation on `site`.

    The caller hands in loaded rows: the installation with its version, the
    site with its host product, and whether the site is among the listing's
    allowed sites. An app group (bundle scheme) is updatable only when a
    component version differs.
    """
    return update_reaches(
        scheme=listing.scheme,
        listing_private=listing.visibility == PRIVATE_VISIBILITY,
        listing_vendor_id=listing.vendor_id,
        installed_channel=installation.version.channel,
        installed_components=installation.version.components,
        channel=version.channel,
        components=version.components,
        compatibility=version.compatibility,
        site_sandbox_vendor_id=site.sandbox_vendor_id,
        site_allowed=site_allowed,
        site_product_key=site.host_product.key,
        site_version=site.host_version,
    )


def update_reaches(
    *,
    scheme: str,
    listing_private: bool,
    listing_vendor_id: int,
    installed_channel: str,
    installed_components: Iterable[Mapping[str, str]] | None,
    channel: str,
    components: Iterable[Mapping[str, str]] | None,
    compatibility: Iterable[Mapping[str, str]] | None,
    site_sandbox_vendor_id: int | None,
    site_allowed: bool,
    site_product_key: str,
    site_version: str,
) -> bool:
    """version_reaches on plain values (the update check reads rows with `values()`, no instances).

    One rule for both: version_reaches hands its objects' fields in here.
    """
    if scheme == BUNDLE and not component_changes(installed_components, components):
        return False
    return not audience_refusal(
        scheme=scheme,
        channel=channel,
        listing_private=listing_private,
        listing_vendor_id=listing_vendor_id,
        site_sandbox_vendor_id=site_sandbox_vendor_id,
        site_allowed=site_allowed,
        installed_channel=installed_channel,
    ) and host_compatible(compatibility, site_product_key, site_version)


# --- members: private testing before publication (pure) ---------------------------------------

# The states in which a version's members may see and install it: submitted, its snapshot
# (members included) read-only. A draft still changes; once published it is everyone's.
MEMBER_ACCESS_STATES = ("pending_approval", "in_review", "approved", "needs_information")


def normalise_email(email: str | None) -> str:
    return (email or "").strip().lower()


def is_version_member(members: Iterable[str], email: str | None) -> bool:
    """Is this address among the version's members? (addresses compare case-insensitively)"""
    wanted = normalise_email(email)
    return bool(wanted) and any(normalise_email(m) == wanted for m in members or ())


def member_access_refusal(version: Any, email: str | None) -> str:
    """'' when the holder of `email` may see and install this version before it is published.

    DESIGN.md section 10: members chosen by the vendor test a version on their own
    sites while it is under review (a private testing channel); nobody else sees it.
    `version.listing` is loaded. The message names no member and says nothing about
    the version to someone who is not one of them.
    """
    if not is_version_member(version.members, email):
        return "No such version among the versions you were invited to test."
    if version.state not in MEMBER_ACCESS_STATES:
        if version.state in RELEASED_STATES:
            return f"{version.number} is published: it reaches sites through its rollout, not the test channel."
        return f"{version.number} is {version.get_state_display().lower()}: it is not open for testing now."
    if version.listing.archived_at is not None:
        return f"Listing {version.listing.key} is archived: nothing of it can be installed."
    return ""


# --- the manual scheme's bump (pure) ----------------------------------------------------------


def manual_bump_check(
    *,
    scheme: str,
    live: Any | None,
    number: VersionNumber,
    scopes: Iterable[str],
    pricing: str | None,
    catalogue: Mapping[str, int],
    breaking: bool = False,
    release_live: Any | None = None,
) -> None:
    """Refuse a number too small for the change versus what is live (the vendor-typed schemes).

    Manual: the bump must fit the change versus the channel's live version
    (`live`: anything with `number`, `scopes` and `pricing`; None when nothing
    is live); a breaking change needs MAJOR, a new scope or free -> paid at
    least MINOR. `pricing=None` means the price stays as it is live.

    OCP: a breaking change must raise MAJOR above the generally available
    version (`release_live`, what sites run), so that sites get it as a MAJOR
    upgrade, which waits for their admin's manual Upgrade.

    Connect, forge and bundle numbers are made by the portal (a new apiVersion,
    a typed MAJOR at share time), so `breaking` is refused there.

    The version form's live check and the services ask this one rule. Raises
    ApplicationError on the number field (or `breaking` for the wrong scheme).
    """
    if breaking and scheme not in BREAKING_SCHEMES:
        raise ApplicationError(
            f"Breaking change: {scheme} listings are numbered by the portal, so a version can't be marked "
            "as breaking here (connect: a new apiVersion makes a MAJOR; bundle: type the MAJOR when you share).",
            field="breaking",
        )
    if scheme == OCP:
        if breaking and release_live is not None:
            previous = parse_version(release_live.number)
            if number.major <= previous.major:
                raise ApplicationError(
                    f"Version number: {number} keeps MAJOR {number.major}, but a breaking change needs a MAJOR "
                    f"bump over the generally available {previous} (for example {previous.bump(MAJOR)}), so "
                    "sites get it as a MAJOR upgrade their admin starts.",
                    field="number",
                )
        return
    if scheme != MANUAL or live is None:
        return
    change = scope_change(live.scopes, scopes, catalogue)
    try:
        check_manual_bump(
            parse_version(live.number),
            number,
            change,
            free_to_paid=free_to_paid(live.pricing, pricing or live.pricing),
            breaking=breaking,
        )
    except VersionNumberError as exc:
        raise ApplicationError(f"Version number: {exc.message}.", field="number") from exc


# --- OCP betas (pure) -------------------------------------------------------------------------


def beta_link_refusal(version: Any) -> str | None:
    """Why no share link can be made for this version (None: it can). `version.listing` is loaded."""
    listing = version.listing
    if listing.scheme != OCP:
        return (
            f"Share links are for OCP beta versions: {listing.key} uses the {listing.scheme} scheme, "
            "whose versions reach sites through rollouts."
        )
    if version.channel != OCP_BETA:
        return (
            f"Only versions tagged -beta.N are installed through share links: {version.number} is in the "
            f"{version.channel} channel (for example 1.2.0-beta.1 is)."
        )
    if listing.archived_at is not None:
        return f"Listing {listing.key} is archived: nothing of it can be installed."
    if version.state == SUPERSEDED:
        return f"{version.number} is superseded by a newer beta: make share links on the newest one."
    if version.state != PUBLISHED:
        return (
            f"{version.number} is {version.get_state_display().lower()}: a share link can be made once "
            "the beta is reviewed and published."
        )
    return None


def beta_site_refusal(
    version: Any,
    site: Any,
    installation: Any | None,
    *,
    site_allowed: bool,
    rollout_halted: bool,
    listing_products: Mapping[str, str] | None = None,
) -> ApplicationError | None:
    """Why this site can't install the beta (None: it can).

    The caller hands in loaded rows: the version with its listing, the site
    with its host product, the site's installation of the listing (or None)
    with its version. `site_allowed`: the site is among a private listing's
    allowed sites (a share link does not open a private listing to other
    sites). `rollout_halted`: the vendor paused the beta's rollout, which
    stops installs through its links too.
    """
    listing = version.listing
    if listing.visibility == PRIVATE_VISIBILITY and not site_allowed:
        return ApplicationError(
            f"{listing.name} is a private app: only the sites its vendor allowed can install it, "
            f"and {site.name} is not one of them; nothing changed.",
            field="site",
            code="incompatible",
        )
    if listing_products and site.host_product.key not in listing_products:
        return ApplicationError(
            f"{listing.name} runs on {', '.join(sorted(listing_products.values()))}, not on "
            f"{site.host_product.name} ({site.name}); nothing changed.",
            field="site",
            code="incompatible",
        )
    if not host_compatible(version.compatibility, site.host_product.key, site.host_version):
        host = f"{site.host_product.name} {site.host_version}".strip()
        return ApplicationError(
            f"{listing.name} {version.number} does not run on {host} ({site.name}); nothing changed.",
            field="site",
            code="incompatible",
        )
    if installation is not None:
        if installation.state == DEACTIVATED_INSTALLATION:
            return TransitionNotAllowed(
                f"{listing.name} is switched off on {site.name} (the site moved to another product): "
                "use the move's page to switch it on first.",
                field="site",
            )
        if bytes(installation.version.sort_key) >= bytes(version.sort_key):
            same = installation.version_id == version.pk
            what = "already runs" if same else f"runs {installation.version.number}, newer than"
            return TransitionNotAllowed(
                f"{site.name} {what} {listing.name} {version.number}; nothing changed.", field="site"
            )
    if rollout_halted:
        return TransitionNotAllowed(
            f"The vendor has paused {version.number}; nothing changed. Try again later.", field="version"
        )
    return None


# --- bundles (pure) -------------------------------------------------------------------------


def component_changes(
    installed: Iterable[Mapping[str, str]] | None, candidate: Iterable[Mapping[str, str]] | None
) -> list[dict[str, str | None]]:
    """The components an upgrade of an app group updates: added, changed or removed, by name.

    A bundle installation is updatable exactly when this list is not empty.
    """
    before = {c["name"]: c["version"] for c in installed or ()}
    after = {c["name"]: c["version"] for c in candidate or ()}
    return [
        {"name": name, "from": before.get(name), "to": after.get(name)}
        for name in sorted(before.keys() | after.keys())
        if before.get(name) != after.get(name)
    ]


# --- staged rollouts (pure) --------------------------------------------------------------------
#
# A staged rollout offers a version to a growing share of installations: 1 %, then 5 %, and so
# on. Which installations are in the share is decided by a bucket 0..STAGE_BUCKETS-1 computed
# from the installation's id and the version's id alone: the same pair always lands in the same
# bucket, so a stage (every bucket below its limit) never shrinks, a halted and resumed rollout
# picks up exactly the installations it had, and another version picks other early adopters.
#
# The hash is integer arithmetic only (two MINSTD steps, a Lehmer generator modulo the prime
# 2**31 - 1), every intermediate below 2**63, so the rollout's chunk query computes the same
# bucket in SQL on SQLite and PostgreSQL (upgrades.selectors.stages.stage_bucket_expression).

STAGE_BUCKETS = 10_000
STAGE_HASH_MODULUS = 2_147_483_647
STAGE_HASH_MULTIPLIER = 48_271
# What the publish form proposes.
DEFAULT_STAGES = (1, 5, 20, 50, 100)
STAGES_MAX = 10
STAGE_ADVANCE_HOURS_MAX = 24 * 30


def stage_bucket(installation_id: int, version_id: int) -> int:
    """The installation's bucket (0..9999) for this version's staged rollout."""
    h = (installation_id * STAGE_HASH_MULTIPLIER + version_id) % STAGE_HASH_MODULUS
    return (h * STAGE_HASH_MULTIPLIER) % STAGE_HASH_MODULUS % STAGE_BUCKETS


def stage_bucket_limit(percent: int | float) -> int:
    """Buckets below this limit are in a stage of `percent` % (100 % is every bucket)."""
    return min(STAGE_BUCKETS, max(0, round(percent * STAGE_BUCKETS / 100)))


def stage_limit(*, rollout_limit: int | None, plan_stages: Iterable[int] | None) -> int:
    """The bucket limit a version is offered under: its rollout's current stage; before its rollout
    exists (the start task is queued), the first stage of its plan; unstaged, every bucket."""
    if rollout_limit is not None:
        return rollout_limit
    stages = list(plan_stages or ())
    return stage_bucket_limit(stages[0]) if stages else STAGE_BUCKETS


def stage_reached(installation_id: int, version_id: int, limit: int) -> bool:
    """Has the rollout's stage come to this installation? (The update check's rule.)"""
    return limit >= STAGE_BUCKETS or stage_bucket(installation_id, version_id) < limit


def stage_plan_check(
    stages: Iterable[Any], *, advance_every_hours: Any = None, halt_failure_percent: Any = None
) -> list[int]:
    """The stages as whole percentages, or ApplicationError naming the field and the rule.

    Stages grow strictly, lie in 1..100 and end at 100 (a rollout in stages still reaches
    everybody in the end); 2 to STAGES_MAX of them. The advance interval (hours) is empty
    (manual Advance only) or 1..STAGE_ADVANCE_HOURS_MAX; the failure threshold (percent of
    attempted upgrades in a stage) is empty (never halts by itself) or 1..100.
    """
    raw = list(stages)
    try:
        values = [int(str(s).strip().rstrip("%")) for s in raw if str(s).strip()]
    except ValueError:
        raise ApplicationError(
            "Stages are whole percentages separated by commas, for example 1, 5, 20, 50, 100.", field="stages"
        ) from None
    if len(values) < 2 or len(values) > STAGES_MAX:
        raise ApplicationError(
            f"Give between 2 and {STAGES_MAX} stages, for example 1, 5, 20, 50, 100.", field="stages"
        )
    if any(v < 1 or v > 100 for v in values):
        raise ApplicationError("Each stage is a percentage between 1 and 100.", field="stages")
    if any(b <= a for a, b in pairwise(values)):
        raise ApplicationError("Each stage must be larger than the one before (a stage never shrinks).", field="stages")
    if values[-1] != 100:
        raise ApplicationError(
            "The last stage must be 100 % so the version reaches every installation.", field="stages"
        )
    if advance_every_hours not in (None, "") and not (1 <= int(advance_every_hours) <= STAGE_ADVANCE_HOURS_MAX):
        raise ApplicationError(
            f"Advance every 1 to {STAGE_ADVANCE_HOURS_MAX} hours, or leave it empty to advance by hand.",
            field="advance_every_hours",
        )
    if halt_failure_percent not in (None, "") and not (1 <= int(halt_failure_percent) <= 100):
        raise ApplicationError(
            "The failure threshold is a percentage between 1 and 100, or empty to never halt by itself.",
            field="halt_failure_percent",
        )
    return values


def stage_failure_halts(*, failed: int, attempted: int, threshold_percent: int | None) -> bool:
    """Does a stage halt by itself? When its failed upgrades reach `threshold_percent` % of the
    upgrades attempted (applied or failed) in it; no threshold, or nothing attempted yet: never."""
    if not threshold_percent or attempted <= 0:
        return False
    return failed * 100 >= threshold_percent * attempted


# --- yank (pure) ---------------------------------------------------------------------------------
#
# A yanked version is offered to nobody and installable by nobody (update check, rollout,
# storefront, share links). Installations running it are offered the newest released version
# that is not yanked, even a lower one: a "move off" offer that says why.

YANK_REASON_MAX = 500
VERSION_YANKED = "version_yanked"


def yank_reason_check(reason: str | None) -> str:
    """The vendor's reason, stripped; it shows to site admins and in the update check."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("Say why the version is yanked: site admins running it read this.", field="reason")
    if len(reason) > YANK_REASON_MAX:
        raise ApplicationError(f"The reason is at most {YANK_REASON_MAX} characters.", field="reason")
    return reason


def yank_refusal(*, name: str, number: str, yanked: bool) -> str:
    """'' unless the version is yanked; then why it can't be installed."""
    return f"{name} {number} was withdrawn by its vendor (yanked), so it can't be installed." if yanked else ""


def move_off_offer(*, installed_number: str, yank_reason: str, target_number: str, target_is_lower: bool) -> dict:
    """The reason code and message of an offer that moves an installation off a yanked version."""
    direction = "back to" if target_is_lower else "to"
    return {
        "code": VERSION_YANKED,
        "message": (
            f"{installed_number} was withdrawn by its vendor: {yank_reason} "
            f"Move {direction} {target_number}, the newest version still offered."
        ),
        "yank_reason": yank_reason,
        "installed": installed_number,
    }


# --- re-release (issue #16 item 2, pure) ----------------------------------------------------------

# What a re-release copies from the version it re-releases: everything a site runs and is asked about.
# Not the number (a new, higher one), the notes, the members or the source.
RELEASE_CONTENT_FIELDS = ("scopes", "pricing", "api_version", "descriptor_hash", "compatibility", "components")


def release_content(version: Any) -> tuple[Any, ...]:
    """A comparable key of a version's content: two versions with equal keys ship the same app.

    Scopes are a set (order does not matter); the other lists are compared in a
    canonical order so a reordered list is the same content.
    """

    def canonical(items: Any) -> tuple[tuple[tuple[str, Any], ...], ...]:
        return tuple(sorted(tuple(sorted((str(k), v) for k, v in dict(item).items())) for item in items or ()))

    return (
        tuple(sorted(set(version.scopes or ()))),
        version.pricing or "free",
        int(version.api_version or 1),
        version.descriptor_hash or "",
        canonical(version.compatibility),
        canonical(version.components),
    )


def rerelease_review_reason(*, matches_reviewed: bool, consent: Iterable[Any]) -> str | None:
    """Why a re-release must go through review (None: it skips the review).

    It skips review only when a reviewer already approved (or the portal
    published) a version with exactly this content, and moving the live
    version's sites to it asks them for nothing new (versions.policies consent
    rules); a rollback that brings back a scope or a price needs the same
    review any new version would.
    """
    reasons = [str(r) for r in consent]
    if not matches_reviewed:
        return "its content matches no version that was reviewed before"
    if reasons:
        return "sites of the live version would have to consent: " + "; ".join(reasons)
    return None
