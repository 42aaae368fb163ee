"""The rules of versions reaching customers: the consent matrix scheme by scheme, audience, reach,
the manual bump, betas (pure: no database)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from core.errors import ApplicationError, TransitionNotAllowed
from versions.numbers import parse_version
from versions.policies import (
    AUTO_UPDATE_OFF,
    FREE_TO_PAID,
    MAJOR_UPGRADE,
    NUMBER_RELEASED_STATES,
    RELEASED_STATES,
    SCOPE_ADDED,
    SCOPE_REMOVED,
    SCOPE_REPLACED,
    Snapshot,
    audience_refusal,
    beta_link_refusal,
    beta_site_refusal,
    consent_reasons,
    free_to_paid,
    host_compatible,
    manual_bump_check,
    price_change,
    scope_changes_for_display,
    upgrade_requires_consent,
    version_in_audience,
    version_reaches,
)

CATALOGUE = {"read:jira-work": 1, "write:jira-work": 2, "delete:jira-work": 3, "admin": 4}


def codes(installed, candidate, scheme):
    return [r.code for r in upgrade_requires_consent(installed, candidate, scheme, catalogue=CATALOGUE)]


READ = Snapshot("1.0.0", ("read:jira-work",), "free")

# (scheme, candidate, expected reason codes)
MATRIX = [
    # manual / connect / forge: scopes increased or free -> paid
    ("manual", Snapshot("1.0.1", ("read:jira-work",), "free"), []),
    ("manual", Snapshot("1.1.0", ("read:jira-work", "write:jira-work"), "free"), [SCOPE_ADDED]),
    ("manual", Snapshot("1.1.0", ("read:jira-work",), "paid"), [FREE_TO_PAID]),
    ("manual", Snapshot("2.0.0", (), "free"), []),  # a major that removes scopes asks nothing
    ("connect", Snapshot("1.1.0", ("write:jira-work",), "free"), [SCOPE_REPLACED]),  # replaced by another
    ("connect", Snapshot("1.1.0", (), "free"), [SCOPE_REMOVED]),  # removing scopes is the consent class too
    ("connect", Snapshot("1.1.0", ("read:jira-work", "read:confluence-content"), "free"), [SCOPE_ADDED]),
    ("forge", Snapshot("2.0.0", (), "free"), [SCOPE_REMOVED]),
    ("connect", Snapshot("1.2.0", ("read:jira-work", "write:jira-work"), "paid"), [SCOPE_ADDED, FREE_TO_PAID]),
    ("connect", Snapshot("2.0.0", ("read:jira-work",), "free"), []),  # API version bump alone
    ("forge", Snapshot("2.0.0", ("read:jira-work", "admin"), "free"), [SCOPE_ADDED]),
    ("forge", Snapshot("1.1.0", ("read:jira-work",), "free"), []),
    ("forge", Snapshot("2.0.0", ("read:jira-work",), "paid"), [FREE_TO_PAID]),
    # ocp: only a MAJOR needs the admin's manual Upgrade
    ("ocp", Snapshot("1.0.1", ("read:jira-work",), "free"), []),
    ("ocp", Snapshot("1.1.0", ("read:jira-work", "write:jira-work"), "paid"), []),
    ("ocp", Snapshot("2.0.0", ("read:jira-work",), "free"), [MAJOR_UPGRADE]),
    ("ocp", Snapshot("2.0.0-beta.1", ("read:jira-work",), "free"), [MAJOR_UPGRADE]),
    # bundle: never
    ("bundle", Snapshot("2.0.0", ("admin",), "paid"), []),
]


@pytest.mark.parametrize(("scheme", "candidate", "expected"), MATRIX)
def test_consent_matrix(scheme, candidate, expected):
    assert codes(READ, candidate, scheme) == expected


def test_each_increased_scope_is_named_with_its_sensitivity():
    reasons = upgrade_requires_consent(
        READ, Snapshot("1.1.0", ("read:jira-work", "write:jira-work", "admin"), "free"), "manual", catalogue=CATALOGUE
    )
    assert [(r.scope, r.sensitivity) for r in reasons] == [("admin", "admin"), ("write:jira-work", "write")]
    assert reasons[1].text == "new scope write:jira-work (write)"


def test_unknown_scope_is_treated_as_most_sensitive():
    [reason] = upgrade_requires_consent(
        READ, Snapshot("1.1.0", ("read:jira-work", "act:as-anyone"), "free"), "manual", catalogue=CATALOGUE
    )
    assert reason.scope == "act:as-anyone" and reason.sensitivity == "admin"
    assert "not in the catalogue" in reason.text


def test_a_narrower_scope_covered_by_a_granted_one_asks_nothing():
    granted = Snapshot("1.0.0", ("write:jira-work",), "free")
    assert codes(granted, Snapshot("1.0.1", ("read:jira-work",), "free"), "manual") == []


def test_paid_to_free_asks_nothing_and_accepts_mappings_and_objects():
    class Version:
        number, scopes, pricing = "1.1.0", ["read:jira-work"], "free"

    paid = {"number": "1.0.0", "scopes": ["read:jira-work"], "pricing": "paid"}
    assert upgrade_requires_consent(paid, Version(), "manual", catalogue=CATALOGUE) == []


def test_scope_changes_for_display_lists_added_and_removed_with_sensitivity():
    shown = scope_changes_for_display(
        ["read:jira-work", "delete:jira-work"], ["read:jira-work", "write:jira-work"], CATALOGUE
    )
    assert shown["added"] == [
        {"scope": "write:jira-work", "sensitivity": "write", "level": 2, "known": True, "increase": False}
    ]
    assert [r["scope"] for r in shown["removed"]] == ["delete:jira-work"]
    assert price_change("free", "paid") == "free -> paid" and price_change("paid", "paid") == ""


AUDIENCE = {
    "listing_private": False,
    "listing_vendor_id": 1,
    "site_sandbox_vendor_id": None,
    "site_allowed": False,
    "installed_channel": "release",
}


@pytest.mark.parametrize(
    ("scheme", "channel", "overrides", "expected"),
    [
        ("manual", "release", {}, True),
        ("manual", "release", {"listing_private": True}, False),
        ("manual", "release", {"listing_private": True, "site_allowed": True}, True),
        ("manual", "lts", {}, False),
        ("manual", "lts", {"installed_channel": "lts"}, True),
        ("ocp", "dev", {}, False),
        ("ocp", "dev", {"site_sandbox_vendor_id": 1}, True),
        ("ocp", "dev", {"site_sandbox_vendor_id": 2}, False),
        ("ocp", "beta", {}, False),
        ("ocp", "beta", {"installed_channel": "beta"}, True),
        ("ocp", "private", {}, False),
        ("ocp", "private", {"site_allowed": True}, True),
        ("ocp", "release", {}, True),
    ],
)
def test_version_in_audience(scheme, channel, overrides, expected):
    assert version_in_audience(scheme=scheme, channel=channel, **{**AUDIENCE, **overrides}) is expected


def test_host_compatibility():
    entries = [{"product": "jira", "min": "9.0", "max": "9.4"}]
    assert host_compatible([], "stash", "3.0")
    assert host_compatible(entries, "jira", "9.4.2")
    assert not host_compatible(entries, "jira", "10.0.0")
    assert not host_compatible(entries, "confluence", "9.1")


# --- why a version does not reach a site (product migration shows it) ---

REFUSAL_AUDIENCE = {
    "scheme": "manual",
    "channel": "release",
    "listing_private": False,
    "listing_vendor_id": 1,
    "site_sandbox_vendor_id": None,
    "site_allowed": False,
    "installed_channel": "release",
}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, ""),
        ({"listing_private": True}, "the listing is private and this site is not among its allowed sites"),
        ({"listing_private": True, "site_allowed": True}, ""),
        ({"scheme": "ocp", "channel": "dev"}, "-dev versions reach only the vendor's own sandbox site"),
        ({"scheme": "ocp", "channel": "dev", "site_sandbox_vendor_id": 1}, ""),
        (
            {"scheme": "ocp", "channel": "beta"},
            "-beta versions reach only installations that joined through a beta share link",
        ),
        ({"scheme": "ocp", "channel": "private"}, "-private versions reach only the sites the vendor allowed"),
        ({"channel": "lts"}, "the lts channel reaches only installations already on it"),
        ({"channel": "lts", "installed_channel": "lts"}, ""),
    ],
)
def test_audience_refusal(changes, expected):
    assert audience_refusal(**{**REFUSAL_AUDIENCE, **changes}) == expected


# --- consent for one installation, reach, the manual bump, betas (pure: plain objects) ---


def ns(**fields):
    return SimpleNamespace(**fields)


def installation(number="1.0.0", scopes=("read:jira-work",), license="free", channel="release", **more):
    version = ns(number=number, channel=channel, components=more.pop("components", []), sort_key=b"\x01")
    return ns(version=version, granted_scopes=list(scopes), license=license, state="active", version_id=1, **more)


def test_consent_reasons_adds_auto_update_off_only_when_nothing_else_asks():
    same = Snapshot("1.0.1", ("read:jira-work",), "free")
    assert consent_reasons(installation(), same, "manual", catalogue=CATALOGUE, auto_update=True) == []
    assert [
        r["code"] for r in consent_reasons(installation(), same, "manual", catalogue=CATALOGUE, auto_update=False)
    ] == [AUTO_UPDATE_OFF]
    paid = Snapshot("1.1.0", ("read:jira-work",), "paid")
    assert [
        r["code"] for r in consent_reasons(installation(), paid, "manual", catalogue=CATALOGUE, auto_update=False)
    ] == [FREE_TO_PAID]


def test_free_to_paid_is_one_direction():
    assert free_to_paid("free", "paid")
    assert not free_to_paid("paid", "free") and not free_to_paid("paid", "paid") and not free_to_paid(None, "paid")


def test_released_states_are_the_models_published_and_superseded():
    from versions.models import FROZEN_STATES, State

    assert set(RELEASED_STATES) == {State.PUBLISHED, State.SUPERSEDED} == set(FROZEN_STATES)
    assert set(NUMBER_RELEASED_STATES) == {State.CANCELED, State.REJECTED}


def site(**more):
    return ns(
        pk=7, name="Acme", sandbox_vendor_id=None, host_product=ns(key="jira", name="Jira"), host_version="9.0", **more
    )


LISTING = ns(scheme="manual", visibility="public", vendor_id=1)


def test_version_reaches_asks_audience_host_and_bundle_components():
    candidate = ns(channel="release", compatibility=[{"product": "jira", "min": "8.0"}], components=[])
    reach = {"listing": LISTING, "installation": installation(), "site": site(), "site_allowed": False}
    assert version_reaches(candidate, **reach)
    old_host = ns(channel="release", compatibility=[{"product": "jira", "max": "8.5"}], components=[])
    assert not version_reaches(old_host, **reach)
    private = ns(scheme="manual", visibility="private", vendor_id=1)
    assert not version_reaches(candidate, **{**reach, "listing": private})
    assert version_reaches(candidate, **{**reach, "listing": private, "site_allowed": True})
    bundle = ns(scheme="bundle", visibility="public", vendor_id=1)
    same_components = ns(channel="release", compatibility=[], components=[{"name": "a", "version": "1"}])
    on_them = installation(components=[{"name": "a", "version": "1"}])
    assert not version_reaches(same_components, **{**reach, "listing": bundle, "installation": on_them})


def test_manual_bump_check_needs_a_minor_for_a_new_scope_and_skips_other_schemes():
    live = ns(number="1.0.0", scopes=["read:jira-work"], pricing="free")
    wider = ["read:jira-work", "write:jira-work"]
    common = {"live": live, "scopes": wider, "pricing": None, "catalogue": CATALOGUE}
    with pytest.raises(ApplicationError) as exc:
        manual_bump_check(scheme="manual", number=parse_version("1.0.1"), **common)
    assert exc.value.field == "number"
    manual_bump_check(scheme="manual", number=parse_version("1.1.0"), **common)
    manual_bump_check(scheme="connect", number=parse_version("1.0.1"), **common)
    manual_bump_check(scheme="manual", number=parse_version("1.0.1"), **{**common, "live": None})


def beta(**more):
    listing = ns(scheme="ocp", visibility="public", name="Acme Timer", key="acme", archived_at=None)
    fields = {
        "number": "1.2.0-beta.1",
        "channel": "beta",
        "state": "published",
        "listing": listing,
        "compatibility": [],
        "sort_key": b"\x05",
        "pk": 5,
    }
    return ns(**{**fields, **more})


def test_beta_site_refusal_ends_with_a_halted_rollout():
    assert beta_site_refusal(beta(), site(), None, site_allowed=True, rollout_halted=False) is None
    refusal = beta_site_refusal(beta(), site(), None, site_allowed=True, rollout_halted=True)
    assert isinstance(refusal, TransitionNotAllowed) and "paused" in refusal.message and refusal.field == "version"
    # A refusal about the site comes first: it says what the admin can act on.
    other_host = beta(compatibility=[{"product": "confluence"}])
    assert (
        "does not run on" in beta_site_refusal(other_host, site(), None, site_allowed=True, rollout_halted=True).message
    )


def test_beta_link_refusal_names_what_is_wrong():
    assert beta_link_refusal(beta()) is None
    assert "superseded" in beta_link_refusal(beta(state="superseded"))
    assert "-beta.N" in beta_link_refusal(beta(channel="release", number="1.2.0"))


# --- fresh installs, the sandbox and members (issue 10, items 5 and 10) --------------------------


def _install(**overrides):
    from versions.policies import install_refusal

    audience = {
        "scheme": "ocp",
        "channel": "release",
        "listing_private": False,
        "listing_vendor_id": 1,
        "site_sandbox_vendor_id": None,
        "site_allowed": False,
    }
    return install_refusal(**{**audience, **overrides})


def test_install_refusal_keeps_each_ocp_audience():
    assert _install() == ""
    assert "sandbox" in _install(channel="dev")
    assert "sandbox" in _install(channel="dev", site_sandbox_vendor_id=2)
    assert "sandbox" in _install(channel="dev", invited=True)  # not even the version's members
    assert _install(channel="dev", site_sandbox_vendor_id=1) == ""
    assert "share link" in _install(channel="beta")
    assert _install(channel="beta", invited=True) == ""
    assert "allowed" in _install(channel="private", invited=True)
    assert _install(channel="private", site_allowed=True) == ""
    assert "private" in _install(scheme="manual", listing_private=True, invited=True)
    assert _install(scheme="manual", channel="nightly") == ""


def test_sandbox_refusal_is_only_about_ocp_dev():
    from versions.policies import sandbox_refusal

    assert sandbox_refusal(scheme="ocp", channel="dev", listing_vendor_id=1, site_sandbox_vendor_id=None)
    assert not sandbox_refusal(scheme="ocp", channel="dev", listing_vendor_id=1, site_sandbox_vendor_id=1)
    assert not sandbox_refusal(scheme="manual", channel="dev", listing_vendor_id=1, site_sandbox_vendor_id=None)


def test_member_access_is_for_members_of_a_submitted_version():
    from types import SimpleNamespace

    from versions.policies import MEMBER_ACCESS_STATES, is_version_member, member_access_refusal

    listing = SimpleNamespace(key="acme", archived_at=None)

    def version(state, members=("qa@example.com",)):
        return SimpleNamespace(
            number="2.0.0",
            state=state,
            members=list(members),
            listing=listing,
            get_state_display=lambda: state.replace("_", " ").title(),
        )

    assert is_version_member(["qa@example.com"], " QA@Example.COM ")
    assert not is_version_member(["qa@example.com"], "aqa@example.com")
    assert not is_version_member(["qa@example.com"], "")
    for state in MEMBER_ACCESS_STATES:
        assert member_access_refusal(version(state), "qa@example.com") == ""
        assert "No such version" in member_access_refusal(version(state), "other@example.com")
    assert "not open for testing" in member_access_refusal(version("draft"), "qa@example.com")
    assert "published" in member_access_refusal(version("published"), "qa@example.com")
    listing.archived_at = "yesterday"
    assert "archived" in member_access_refusal(version("in_review"), "qa@example.com")


def test_connect_and_forge_reasons_say_exactly_which_scope_changed():
    old = Snapshot("1.0.0", ("read:jira-work", "read:confluence-content", "write:confluence-content"), "free")
    new = Snapshot("1.1.0", ("write:jira-work", "read:confluence-content", "act:as-app"), "paid")
    reasons = upgrade_requires_consent(old, new, "connect", catalogue=CATALOGUE)
    assert [r.text for r in reasons] == [
        "scope replaced: read:jira-work -> write:jira-work (write)",
        "scope removed: write:confluence-content",
        "new scope act:as-app (not in the catalogue: treated as admin)",
        "price: free -> paid (the site starts paying for the app)",
    ]
    assert [str(r) for r in reasons][:2] == [
        "scope replaced: read:jira-work -> write:jira-work",
        "scope removed: write:confluence-content",
    ]
    # manual keeps its own rule: only what widens access and free -> paid.
    manual = upgrade_requires_consent(old, new, "manual", catalogue=CATALOGUE)
    assert [r.code for r in manual] == [SCOPE_ADDED, SCOPE_ADDED, FREE_TO_PAID]


def test_a_mirrored_app_group_update_waits_for_the_site_admins_one_click():
    from versions.policies import INTERNAL_MARKET_UPDATE, consent_reasons, waits_for_one_click_upgrade

    installation = SimpleNamespace(version=SimpleNamespace(number="1.0.0"), granted_scopes=[], license="free")
    mirrored = SimpleNamespace(number="1.1.0", scopes=[], pricing="free", source="mirror")
    shared_here = SimpleNamespace(number="1.1.0", scopes=[], pricing="free", source="share")
    assert waits_for_one_click_upgrade(mirrored, "bundle")
    assert not waits_for_one_click_upgrade(shared_here, "bundle")
    assert not waits_for_one_click_upgrade(mirrored, "manual")  # other schemes keep their own rules
    reasons = consent_reasons(installation, mirrored, "bundle", catalogue={}, auto_update=True)
    assert [r["code"] for r in reasons] == [INTERNAL_MARKET_UPDATE]
    assert "internal market" in reasons[0]["text"]
    assert consent_reasons(installation, shared_here, "bundle", catalogue={}, auto_update=True) == []
    assert consent_reasons(installation, mirrored, "manual", catalogue={}, auto_update=True) == []
