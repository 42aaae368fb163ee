"""Moving a site to another host product (Stash -> Bitbucket Server): what each app is offered (pure).

When a site changes product its installations are switched off, and each is
offered the newest released version that runs on the new product and may reach
the site, but only when that version is greater by SemVer precedence than the
one installed: the customer instance refuses anything else as a downgrade. When
there is no such version the site admin is told exactly why, in words a vendor
can act on (the classic trap: `1.2.3-bitbucket` sorts below `1.2.3`), and
the reason also says when the vendor's build numbers disagree with that order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.errors import ApplicationError
from versions.numbers import VersionNumber, VersionNumberError, parse_version
from versions.policies import host_compatible
from versions.schemes import build_order_disagrees

OFFERED = "offered"
NOT_GREATER = "not_greater"
INCOMPATIBLE = "incompatible"
NOT_AVAILABLE = "not_available"

HOST_VERSION_RULE = "dotted numbers such as 4.0 or 4.0.1"


def clean_host_version(value: Any) -> str:
    """The product version a site moves to: 1 to 4 dotted numbers (what compatibility ranges compare)."""
    text = value.strip() if isinstance(value, str) else ""
    parts = text.split(".")
    if not text or not 1 <= len(parts) <= 4 or not all(p.isdigit() and len(p) <= 9 for p in parts):
        shown = f" {value.strip()!r}" if isinstance(value, str) and value.strip() else ""
        raise ApplicationError(
            f"Host product version{shown} is invalid: write the version the site runs after the move, "
            f"as {HOST_VERSION_RULE}.",
            field="host_version",
        )
    return text


@dataclass(frozen=True)
class Candidate:
    """A released version as the decision sees it; `refusal` is why it may not reach the site ('' = it may,
    versions.policies.audience_refusal decides)."""

    number: str
    compatibility: Sequence[Mapping[str, str]] = ()
    refusal: str = ""
    ref: Any = field(default=None, compare=False)  # the caller's own object (a Version), handed back
    build_number: int | None = None


@dataclass(frozen=True)
class MigrationChoice:
    code: str
    reason: str = ""
    candidate: Candidate | None = None

    @property
    def offered(self) -> bool:
        return self.code == OFFERED


def _product_label(product_name: str, product_version: str) -> str:
    return f"{product_name} {product_version}".strip()


def _next_patch(installed: VersionNumber) -> str:
    return f"{installed.major}.{installed.minor}.{installed.patch + 1}"


def _why_lower(best: VersionNumber, installed: VersionNumber) -> str:
    same_triple = (best.major, best.minor, best.patch) == (installed.major, installed.minor, installed.patch)
    if same_triple and best.is_prerelease and not installed.is_prerelease:
        return "a pre-release is lower than its release"
    if same_triple and best.is_prerelease and installed.is_prerelease:
        return (
            f"-{'.'.join(best.prerelease)} sorts before -{'.'.join(installed.prerelease)} "
            "(pre-release identifiers compare in ASCII order)"
        )
    return "it is an older version"


def not_greater_reason(best: str | VersionNumber, installed: str | VersionNumber, product_label: str) -> str:
    """Why `best` (the newest version for the new product) can't be offered over `installed`."""
    best_ = best if isinstance(best, VersionNumber) else parse_version(best)
    installed_ = installed if isinstance(installed, VersionNumber) else parse_version(installed)
    if best_ == installed_:
        return (
            f"the installed {installed_} is already the newest version that supports {product_label}; "
            "there is no greater version to upgrade to"
        )
    wanted = _next_patch(installed_)
    if best_.is_prerelease:
        wanted = f"{wanted}-{'.'.join(best_.prerelease)}"
    return (
        f"{best_} sorts below the installed {installed_}: {_why_lower(best_, installed_)}; "
        f"ask the vendor for {wanted} or higher"
    )


def build_order_note(
    best: VersionNumber, best_build: int | None, installed: VersionNumber, installed_build: int | None
) -> str:
    """'' when the builds agree with SemVer order; else the sentence the offer's reason carries.

    The seed's trap: tools that order updates by build number offer a higher
    build as newer, while the upgrade itself goes by version number. The portal
    decides by SemVer precedence; the note tells the admin (and the vendor) that
    the vendor's build numbers say otherwise.
    """
    if (
        best_build is None
        or installed_build is None
        or not build_order_disagrees(best, best_build, installed, installed_build)
    ):
        return ""
    if best_build > installed_build:
        return (
            f"build numbers disagree with version order: {best} has the higher build ({best_build} > "
            f"{installed_build}) but the lower version, so tools that go by build number would offer it as newer"
        )
    return (
        f"build numbers disagree with version order: {best} is the higher version but has the lower build "
        f"({best_build} < {installed_build}); the portal goes by version order, tools that go by build number "
        "would not offer it"
    )


def choose_migration_offer(
    installed: str,
    candidates: Iterable[Candidate],
    *,
    product_key: str,
    product_name: str,
    product_version: str,
    installed_build: int | None = None,
    listing_products: Iterable[str] = (),
) -> MigrationChoice:
    """The newest candidate for the new product that may reach the site, if it is greater than `installed`.

    `listing_products`: the host products the listing names (none: every product);
    an app that does not name the new product is never offered on it.

    `candidates` are the listing's released versions in any order (the
    installed one among them or not). Unparseable numbers are ignored: they
    could never be compared, so never offered. When `installed_build` and the
    candidates' build numbers are given, a build order that disagrees with
    version order is said in the reason (offered or not).
    """
    label = _product_label(product_name, product_version)
    if listing_products and product_key not in set(listing_products):
        return MigrationChoice(INCOMPATIBLE, f"the app does not run on {product_name}")
    installed_ = parse_version(installed)
    parsed: list[tuple[VersionNumber, Candidate]] = []
    for candidate in candidates:
        try:
            parsed.append((parse_version(candidate.number), candidate))
        except VersionNumberError:
            continue
    compatible = [(n, c) for n, c in parsed if host_compatible(c.compatibility, product_key, product_version)]
    if not compatible:
        return MigrationChoice(INCOMPATIBLE, f"no published version supports {label}")
    reachable = [(n, c) for n, c in compatible if not c.refusal]
    if not reachable:
        newest_number, newest = max(compatible, key=lambda pair: pair[0])
        return MigrationChoice(
            NOT_AVAILABLE, f"{newest_number} supports {label}, but it can't reach this site: {newest.refusal}"
        )
    best_number, best = max(reachable, key=lambda pair: pair[0])
    note = build_order_note(best_number, best.build_number, installed_, installed_build)
    if best_number > installed_:
        return MigrationChoice(OFFERED, note, best)
    reason = not_greater_reason(best_number, installed_, label)
    return MigrationChoice(NOT_GREATER, f"{reason}; {note}" if note else reason, best)
