"""Numbering schemes: how each kind of listing makes and checks its numbers (pure).

manual  - vendor types the number; the bump must match the change.
connect - the portal makes the number from a polled descriptor (descriptors.py).
forge   - the portal makes the number from a pushed deploy (descriptors.py).
ocp     - vendor types it; the pre-release tag picks the audience (dev/beta/private).
bundle  - MAJOR typed at share time, MINOR counts shares of that MAJOR.
"""

from __future__ import annotations

from collections.abc import Iterable

# The scheme names are the catalogue's; re-exported here for the versions app's callers.
from marketplace.schemes import (  # noqa: F401
    AUTOMATIC_SCHEMES,
    BUNDLE,
    CONNECT,
    FORGE,
    MANUAL,
    OCP,
    SCHEME_CHOICES,
    SCHEMES,
)
from marketplace.scopes import ScopeChange
from versions.numbers import (
    BUMP_ORDER,
    MAJOR,
    MINOR,
    PATCH,
    VersionNumber,
    VersionNumberError,
    bump_kind,
    parse_version,
)

DEFAULT_CHANNEL = "release"
OCP_DEV, OCP_BETA, OCP_PRIVATE, OCP_GA = "dev", "beta", "private", "release"
OCP_TAGS = (OCP_DEV, OCP_BETA, OCP_PRIVATE)


def ocp_audience(number: VersionNumber) -> str:
    """dev (vendor sandbox only), beta (share link), private (allowed sites) or release."""
    return number.prerelease[0] if number.is_prerelease else OCP_GA


def validate_ocp_number(number: VersionNumber) -> None:
    """OCP pre-release tags: -dev.N, -beta.N, -private; '.' between tag and counter."""
    if not number.is_prerelease:
        return
    ids = number.prerelease
    tag = ids[0]
    if tag not in OCP_TAGS:
        for known in OCP_TAGS:
            if tag.startswith(known + "-") or tag.startswith(known + "_"):
                raise VersionNumberError(
                    f"pre-release tag {tag!r}: separate the tag and its counter with '.', "
                    f"not '{tag[len(known)]}' (for example -{known}.2)"
                )
        raise VersionNumberError(
            f"pre-release tag {tag!r} is not allowed: use dev, beta or private "
            "(for example 1.2.3-beta.1 or 1.2.3-private)"
        )
    if tag == OCP_PRIVATE:
        if len(ids) > 1:
            raise VersionNumberError("the private tag takes no counter: write 1.2.3-private")
        return
    if len(ids) > 2:
        raise VersionNumberError(f"pre-release -{tag} takes one counter: write -{tag}.N, for example -{tag}.2")
    if len(ids) == 2 and not ids[1].isdigit():
        raise VersionNumberError(f"the {tag} counter must be a number: write -{tag}.N, for example -{tag}.2")


def validate_number(scheme: str, text: str) -> VersionNumber:
    """Parse `text` and apply the scheme's own rules; raises VersionNumberError."""
    number = parse_version(text)
    if scheme == OCP:
        validate_ocp_number(number)
    return number


def channel_for(scheme: str, number: VersionNumber, requested: str | None = None) -> str:
    """The channel a version is live in: OCP derives it from the tag."""
    if scheme == OCP:
        return ocp_audience(number)
    return (requested or DEFAULT_CHANNEL).strip() or DEFAULT_CHANNEL


def skips_review(scheme: str, source: str, number: VersionNumber) -> bool:
    """System versions and OCP -dev versions are not reviewed by a human.

    Mirrored versions were reviewed (or shared) on the upstream portal.
    """
    if source in ("poll", "deploy", "share", "mirror"):
        return True
    return scheme == OCP and ocp_audience(number) == OCP_DEV


def manual_required_bump(scopes: ScopeChange, *, free_to_paid: bool, breaking: bool = False) -> str:
    """Smallest bump a manual version needs for its change.

    A breaking change needs MAJOR; a new scope (anything that widens access) or
    a switch from free to paid is a feature-level change that needs at least
    MINOR; a PATCH may add no scope.
    """
    if breaking:
        return MAJOR
    if scopes.added or free_to_paid:
        return MINOR
    return PATCH


def check_manual_bump(
    previous: VersionNumber | None,
    new: VersionNumber,
    scopes: ScopeChange,
    *,
    free_to_paid: bool,
    breaking: bool = False,
) -> None:
    """Raise VersionNumberError when `new` is too small a step for the change."""
    if previous is None:
        return
    actual = bump_kind(previous, new)
    if actual is None:
        raise VersionNumberError(f"{new} must be greater than the published {previous}")
    needed = manual_required_bump(scopes, free_to_paid=free_to_paid, breaking=breaking)
    if BUMP_ORDER[actual] < BUMP_ORDER[needed]:
        why = []
        if breaking:
            why.append("a breaking change")
        if scopes.added:
            why.append("new scope " + ", ".join(scopes.added))
        if free_to_paid:
            why.append("price free -> paid")
        options = "MAJOR" if needed == MAJOR else "MINOR or MAJOR"
        raise VersionNumberError(
            f"{new} is a {actual.upper()} bump from {previous}, but {' and '.join(why)} needs a "
            f"{options} bump (for example {previous.bump(needed)})"
        )


def bundle_next_number(major: int, published_of_major: Iterable[VersionNumber]) -> VersionNumber:
    """Bundle: the vendor types MAJOR; MINOR counts one up on every share of it."""
    minors = [v.minor for v in published_of_major if v.major == major]
    minor = max(minors) + 1 if minors else 0
    return parse_version(f"{major}.{minor}.0")


def pre_release_blocks_upgrade_warning(number: VersionNumber, others: Iterable[VersionNumber]) -> str | None:
    """Warn when a tagged number sorts below an existing release of the same triple.

    `1.2.3-bitbucket` < `1.2.3`: a site moving from the product that runs 1.2.3
    would never be offered it. The vendor form shows this as a warning.
    """
    if not number.is_prerelease:
        return None
    for other in others:
        if (other.major, other.minor, other.patch) == (number.major, number.minor, number.patch) and not (
            other.is_prerelease
        ):
            return (
                f"{number} sorts below {other} (a pre-release is lower than its release), so sites on "
                f"{other} can never upgrade to it; use a higher number such as {other.bump(PATCH)}-"
                f"{'.'.join(number.prerelease)} or {other.bump(PATCH)}"
            )
    return None


def build_order_disagrees(number: VersionNumber, build: int, other: VersionNumber, other_build: int) -> bool:
    """Build-number order and SemVer order say different things about these two versions.

    Some tools (the seed's UPM) offer updates in build-number order but install
    in version order: a higher build for a lower version (or the reverse) is
    offered as newer and then refused as a downgrade.
    """
    return (build > other_build and number < other) or (build < other_build and number > other)


def build_order_warning(
    number: VersionNumber, build: int, others: Iterable[tuple[VersionNumber, int]], *, build_is_next: bool = False
) -> str | None:
    """Warn when `number` with `build` would disagree with the listing's other versions' order.

    `others` are (number, build) of the listing's other versions. `build_is_next`:
    the build is the one the portal will assign (the highest so far plus one).
    """
    clashes = [(n, b) for n, b in others if build_order_disagrees(number, build, n, b)]
    if not clashes:
        return None
    build_text = f"would get build {build}" if build_is_next else f"has build {build}"
    higher = [(n, b) for n, b in clashes if b < build]
    if higher:
        # Name the nearest version it sorts below (1.2.3 for 1.2.3-stash); suggest a number above them all.
        other, other_build = min(higher, key=lambda pair: pair[0])
        highest = max(n for n, _ in higher)
        more = f" (and {len(higher) - 1} more)" if len(higher) > 1 else ""
        return (
            f"{number} {build_text}, higher than build {other_build} of {other}{more}, but {number} sorts below "
            f"{other}: tools that order updates by build number offer {number} as newer than {other}, while an "
            f"upgrade by version number refuses it; create versions in version order (a higher version gets a "
            f"higher build) or choose a number above {highest} (for example {highest.bump(PATCH)})"
        )
    other, other_build = min(clashes, key=lambda pair: pair[0])
    return (
        f"{number} {build_text}, lower than build {other_build} of {other}, though {number} sorts above {other}: "
        f"tools that order updates by build number would not offer {number} over {other}"
    )


# --- re-release (issue #16 item 2): the number of a rollback published as a new, higher version ---


def rerelease_bump(scheme: str, *, scopes: ScopeChange, free_to_paid: bool, api_version_changed: bool) -> str:
    """The smallest bump the scheme allows for going from the live version back to an older content.

    A re-release is the next PATCH above the live version where the scheme's
    rules allow a PATCH: manual asks MINOR for a new scope or free -> paid;
    connect makes MAJOR for another apiVersion and MINOR for any scope change;
    forge has no PATCH (a scope change is MAJOR, anything else MINOR); bundle
    counts shares in MINOR; OCP numbers are free (PATCH).
    """
    if scheme == MANUAL:
        return manual_required_bump(scopes, free_to_paid=free_to_paid)
    if scheme == CONNECT:
        if api_version_changed:
            return MAJOR
        return MINOR if scopes.changed or free_to_paid else PATCH
    if scheme == FORGE:
        return MAJOR if scopes.changed or free_to_paid else MINOR
    if scheme == BUNDLE:
        return MINOR
    return PATCH


def rerelease_number(scheme: str, *, above: VersionNumber, like: VersionNumber, bump: str) -> VersionNumber:
    """The re-release's number: `bump` above `above` (the channel's highest released number).

    `like` is the number of the version re-released: an OCP pre-release keeps its
    audience tag (so the re-release lands in the same channel): 1.3.0-beta.2 ->
    1.3.1-beta.1, 1.3.0-private -> 1.3.1-private.
    """
    if scheme == OCP and like.is_prerelease:
        # The tag picks the channel: bump the release triple, then put the tag back on.
        nxt = parse_version(f"{above.major}.{above.minor}.{above.patch}").bump(bump)
        tag = like.prerelease[0]
        return parse_version(f"{nxt.text}-{tag}" if tag == OCP_PRIVATE else f"{nxt.text}-{tag}.1")
    return above.bump(bump)


__all__ = [
    "BUNDLE",
    "CONNECT",
    "FORGE",
    "MAJOR",
    "MANUAL",
    "MINOR",
    "OCP",
    "PATCH",
    "SCHEMES",
]
