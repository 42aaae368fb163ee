"""Per-scheme number rules (pure)."""

import pytest

from marketplace.scopes import scope_change
from versions.numbers import VersionNumberError, parse_version
from versions.schemes import (
    bundle_next_number,
    channel_for,
    check_manual_bump,
    manual_required_bump,
    ocp_audience,
    pre_release_blocks_upgrade_warning,
    skips_review,
    validate_number,
)

CATALOGUE = {"read:jira-work": 1, "write:jira-work": 2}


@pytest.mark.parametrize("text", ["1.0.0", "0.0.1-dev.1", "1.0.0-beta.2", "1.2.3-private", "2.1.9-dev.4", "1.0.0-beta"])
def test_ocp_valid_numbers(text):
    assert validate_number("ocp", text).text == text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1.0", "missing PATCH number"),
        ("1.2.3.4", "too many numbers"),
        ("1.002.3", "leading zero in MINOR"),
        ("1.2.3-dev.01", "leading zero in pre-release identifier"),
        ("1.2.3-internal", "tag 'internal' is not allowed: use dev, beta or private"),
        ("1.2.3-", "pre-release identifier is empty"),
        ("1.2.3-beta-2", "separate the tag and its counter with '.', not '-'"),
        ("2.1.9_dev.2", "invalid character '_'"),
        ("1.2.3-private.1", "private tag takes no counter"),
        ("1.2.3-beta.x", "counter must be a number"),
        ("1.2.3-dev.1.2", "takes one counter"),
    ],
)
def test_ocp_invalid_numbers(text, reason):
    with pytest.raises(VersionNumberError) as exc:
        validate_number("ocp", text)
    assert reason in exc.value.message


def test_other_schemes_accept_any_semver_prerelease():
    assert validate_number("manual", "1.2.3-internal").text == "1.2.3-internal"
    assert validate_number("connect", "1.2.3-beta-2").text == "1.2.3-beta-2"


def test_ocp_audience_and_channel():
    assert ocp_audience(parse_version("1.0.0-dev.3")) == "dev"
    assert ocp_audience(parse_version("1.0.0-beta.1")) == "beta"
    assert ocp_audience(parse_version("1.0.0-private")) == "private"
    assert ocp_audience(parse_version("1.0.0")) == "release"
    assert channel_for("ocp", parse_version("1.0.0-dev.1"), "stable") == "dev"
    assert channel_for("manual", parse_version("1.0.0"), None) == "release"
    assert channel_for("manual", parse_version("1.0.0-stash"), "stash") == "stash"


def test_review_is_skipped_for_system_sources_and_ocp_dev_only():
    assert skips_review("connect", "poll", parse_version("1.0.0"))
    assert skips_review("forge", "deploy", parse_version("1.0.0"))
    assert skips_review("ocp", "form", parse_version("1.0.0-dev.1"))
    assert not skips_review("ocp", "form", parse_version("1.0.0-beta.1"))
    assert not skips_review("manual", "form", parse_version("1.0.0"))


def test_manual_bump_rules():
    no_change = scope_change(["read:jira-work"], ["read:jira-work"], CATALOGUE)
    added = scope_change(["read:jira-work"], ["read:jira-work", "write:jira-work"], CATALOGUE)
    assert manual_required_bump(no_change, free_to_paid=False) == "patch"
    assert manual_required_bump(added, free_to_paid=False) == "minor"
    assert manual_required_bump(no_change, free_to_paid=True) == "minor"
    assert manual_required_bump(no_change, free_to_paid=False, breaking=True) == "major"
    check_manual_bump(parse_version("1.0.0"), parse_version("1.0.1"), no_change, free_to_paid=False)
    check_manual_bump(parse_version("1.0.0"), parse_version("1.1.0"), added, free_to_paid=False)
    check_manual_bump(parse_version("1.0.0"), parse_version("2.0.0"), added, free_to_paid=False)
    with pytest.raises(VersionNumberError) as exc:
        check_manual_bump(parse_version("1.0.0"), parse_version("1.0.1"), added, free_to_paid=False)
    assert "new scope write:jira-work needs a MINOR or MAJOR bump" in exc.value.message
    with pytest.raises(VersionNumberError) as exc:
        check_manual_bump(parse_version("1.0.0"), parse_version("1.0.0"), no_change, free_to_paid=False)
    assert "must be greater" in exc.value.message
    with pytest.raises(VersionNumberError):
        check_manual_bump(parse_version("1.0.0"), parse_version("1.1.0"), no_change, free_to_paid=False, breaking=True)


def test_bundle_minor_counts_shares_of_a_major():
    published = [parse_version(t) for t in ["1.0.0", "1.1.0", "1.2.0", "2.0.0"]]
    assert str(bundle_next_number(1, published)) == "1.3.0"
    assert str(bundle_next_number(2, published)) == "2.1.0"
    assert str(bundle_next_number(3, published)) == "3.0.0"


def test_warning_when_a_tagged_number_cannot_upgrade_a_release():
    warning = pre_release_blocks_upgrade_warning(parse_version("1.2.3-bitbucket"), [parse_version("1.2.3")])
    assert warning and "sorts below 1.2.3" in warning and "1.2.4" in warning
    assert pre_release_blocks_upgrade_warning(parse_version("1.2.4-bitbucket"), [parse_version("1.2.3")]) is None
    assert pre_release_blocks_upgrade_warning(parse_version("1.2.4"), [parse_version("1.2.3")]) is None


def test_build_order_warning_when_a_higher_build_gets_a_lower_version():
    from versions.schemes import build_order_disagrees, build_order_warning

    released = [(parse_version("1.2.3"), 10), (parse_version("2.0.0"), 11)]
    warning = build_order_warning(parse_version("1.2.3-stash"), 12, released[:1], build_is_next=True)
    assert warning.startswith(
        "1.2.3-stash would get build 12, higher than build 10 of 1.2.3, but 1.2.3-stash sorts below 1.2.3"
    )
    assert "choose a number above 1.2.3 (for example 1.2.4)" in warning
    # A maintenance release on an older line: 1.5.1 after 2.0.0.
    assert "higher than build 11 of 2.0.0, but 1.5.1 sorts below 2.0.0" in build_order_warning(
        parse_version("1.5.1"), 12, released
    )
    both = build_order_warning(parse_version("1.0.0"), 12, released)
    assert "higher than build 10 of 1.2.3 (and 1 more)" in both and "a number above 2.0.0 (for example 2.0.1)" in both
    # An edited version whose build is lower than an older version's.
    low = build_order_warning(parse_version("3.0.0"), 9, released)
    assert low.startswith("3.0.0 has build 9, lower than build 10 of 1.2.3, though 3.0.0 sorts above 1.2.3")
    assert build_order_warning(parse_version("2.1.0"), 12, released, build_is_next=True) is None
    assert not build_order_disagrees(parse_version("1.0.0"), 1, parse_version("1.0.0"), 1)
