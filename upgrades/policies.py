"""Which upgrades need a customer's consent (pure: no database).

The marketplace's policy (DESIGN.md section 5), by numbering scheme:

- manual, connect, forge: the app asks for more than the customer granted
  (every scope that widens access is a reason of its own, named), or its price
  goes from free to paid;
- ocp: a MAJOR upgrade waits for the customer admin's manual "Upgrade";
  MINOR and PATCH upgrades are applied automatically;
- bundle: never (an installation follows its components).

The rollout, the approval page, the API and the update check all ask this one
function, so they can never disagree about what a customer has to approve.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from marketplace.scopes import SENSITIVITY_NAMES, scope_change
from versions.numbers import parse_version

SCOPE_ADDED = "scope_added"
FREE_TO_PAID = "free_to_paid"
MAJOR_UPGRADE = "major_upgrade"
AUTO_UPDATE_OFF = "auto_update_off"

SCHEMES_ASKING_FOR_SCOPES_AND_PRICE = ("manual", "connect", "forge")


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
    old, new = Snapshot.of(installed), Snapshot.of(candidate)
    reasons: list[Reason] = []
    if scheme in SCHEMES_ASKING_FOR_SCOPES_AND_PRICE:
        change = scope_change(old.scopes, new.scopes, catalogue or {})
        for scope in change.increased:
            level = SENSITIVITY_NAMES[change.sensitivity[scope]]
            known = catalogue is not None and scope in catalogue
            text = (
                f"new scope {scope} ({level})"
                if known
                else f"new scope {scope} (not in the catalogue: treated as {level})"
            )
            reasons.append(Reason(SCOPE_ADDED, text, scope=scope, sensitivity=level, short=f"new scope {scope}"))
        if old.pricing == "free" and new.pricing == "paid":
            reasons.append(
                Reason(
                    FREE_TO_PAID,
                    "price: free -> paid (the site starts paying for the app)",
                    short="price: free -> paid",
                )
            )
    elif scheme == "ocp":
        before, after = parse_version(old.number), parse_version(new.number)
        if after.major > before.major:
            reasons.append(
                Reason(
                    MAJOR_UPGRADE,
                    f"major upgrade {before.major}.x -> {after.major}.x: OCP applies it only when an admin clicks Upgrade",
                    short=f"major upgrade {before.major}.x -> {after.major}.x",
                )
            )
    return reasons


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


def version_in_audience(
    *,
    scheme: str,
    channel: str,
    listing_private: bool,
    listing_vendor_id: int,
    site_sandbox_vendor_id: int | None,
    site_allowed: bool,
    installed_channel: str,
) -> bool:
    """May a version of this channel reach this site's installation?

    Private listings reach only their allowed sites. OCP audiences by tag:
    -dev only the vendor's own sandbox site, -beta only installations that came
    through a beta share link (they run a beta), -private only allowed sites,
    no tag everyone. Other schemes: the release channel reaches everyone, any
    other channel only installations already on it.
    """
    if listing_private and not site_allowed:
        return False
    if scheme == "ocp":
        if channel == "dev":
            return site_sandbox_vendor_id == listing_vendor_id
        if channel == "beta":
            return installed_channel == "beta"
        if channel == "private":
            return site_allowed
        return True
    return channel == "release" or installed_channel == channel


def host_compatible(compatibility: Iterable[Mapping[str, str]], product_key: str, product_version: str) -> bool:
    """No compatibility entries: runs on every host; otherwise the site's product and version must match one."""
    from versions.validation import product_version_in_range

    entries = list(compatibility or ())
    if not entries:
        return True
    return any(e.get("product") == product_key and product_version_in_range(product_version, e) for e in entries)


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
