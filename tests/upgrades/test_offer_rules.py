"""Product migration rules (pure: no database): which version an app is offered after its site
moves product, and the exact sentence when none is."""

from __future__ import annotations

import pytest

from core.errors import ApplicationError
from upgrades.offer_rules import (
    INCOMPATIBLE,
    NOT_AVAILABLE,
    NOT_GREATER,
    OFFERED,
    Candidate,
    choose_migration_offer,
    clean_host_version,
    not_greater_reason,
)

STASH = [{"product": "stash", "min": "3.0", "max": "3.11"}]
BITBUCKET = [{"product": "bitbucket-server", "min": "4.0"}]


def choose(installed, candidates, version="4.0"):
    return choose_migration_offer(
        installed, candidates, product_key="bitbucket-server", product_name="Bitbucket Server", product_version=version
    )


def test_offers_the_newest_compatible_version_greater_than_the_installed_one():
    choice = choose(
        "1.2.3",
        [
            Candidate("1.2.3", STASH),
            Candidate("1.3.0", BITBUCKET),
            Candidate("1.3.1", BITBUCKET),
            Candidate("1.4.0", STASH),  # newest, but for the old product
        ],
    )
    assert choice.code == OFFERED and choice.offered and choice.candidate.number == "1.3.1"
    assert choice.reason == ""


def test_a_pre_release_below_its_release_is_not_offered_and_says_why():
    choice = choose("1.2.3", [Candidate("1.2.3", STASH), Candidate("1.2.3-bitbucket", BITBUCKET)])
    assert choice.code == NOT_GREATER and not choice.offered
    assert choice.reason == (
        "1.2.3-bitbucket sorts below the installed 1.2.3: a pre-release is lower than its release; "
        "ask the vendor for 1.2.4-bitbucket or higher"
    )


def test_no_compatible_version_names_the_product_and_version():
    choice = choose("1.2.3", [Candidate("1.2.3", STASH)])
    assert choice.code == INCOMPATIBLE
    assert choice.reason == "no published version supports Bitbucket Server 4.0"


def test_version_ranges_decide_compatibility():
    candidates = [Candidate("2.0.0", [{"product": "bitbucket-server", "min": "5.0"}])]
    assert choose("1.0.0", candidates, version="4.2").code == INCOMPATIBLE
    assert choose("1.0.0", candidates, version="5.1").candidate.number == "2.0.0"


def test_no_compatibility_entries_run_everywhere():
    assert choose("1.0.0", [Candidate("1.1.0", [])]).code == OFFERED


def test_an_app_that_does_not_name_the_new_product_is_never_offered_on_it():
    kwargs = {"product_key": "bitbucket-server", "product_name": "Bitbucket Server", "product_version": "4.0"}
    only_stash = choose_migration_offer("1.0.0", [Candidate("1.1.0", [])], listing_products=["stash"], **kwargs)
    assert only_stash.code == INCOMPATIBLE and only_stash.reason == "the app does not run on Bitbucket Server"
    both = choose_migration_offer(
        "1.0.0", [Candidate("1.1.0", [])], listing_products=["stash", "bitbucket-server"], **kwargs
    )
    assert both.code == OFFERED


@pytest.mark.parametrize(
    ("best", "installed", "expected"),
    [
        (
            "1.2.3-bitbucket",
            "1.2.3-stash",
            "1.2.3-bitbucket sorts below the installed 1.2.3-stash: -bitbucket sorts before -stash "
            "(pre-release identifiers compare in ASCII order); ask the vendor for 1.2.4-bitbucket or higher",
        ),
        (
            "1.1.0",
            "1.2.3",
            "1.1.0 sorts below the installed 1.2.3: it is an older version; ask the vendor for 1.2.4 or higher",
        ),
        (
            "1.2.3",
            "1.2.3",
            "the installed 1.2.3 is already the newest version that supports Bitbucket Server 4.0; "
            "there is no greater version to upgrade to",
        ),
    ],
)
def test_not_greater_reasons(best, installed, expected):
    assert not_greater_reason(best, installed, "Bitbucket Server 4.0") == expected


def test_stash_suffix_naming_upgrades_cleanly():
    """The naming the seed recommends: 1.2.3-stash on Stash, 1.2.3 on Bitbucket Server."""
    choice = choose("1.2.3-stash", [Candidate("1.2.3-stash", STASH), Candidate("1.2.3", BITBUCKET)])
    assert choice.code == OFFERED and choice.candidate.number == "1.2.3"


def test_versions_that_cannot_reach_the_site_are_explained():
    refusal = "the listing is private and this site is not among its allowed sites"
    choice = choose("1.0.0", [Candidate("1.1.0", BITBUCKET, refusal=refusal)])
    assert choice.code == NOT_AVAILABLE
    assert choice.reason == f"1.1.0 supports Bitbucket Server 4.0, but it can't reach this site: {refusal}"


def test_a_reachable_older_candidate_beats_an_unreachable_newer_one():
    choice = choose("1.0.0", [Candidate("1.2.0", BITBUCKET, refusal="not for you"), Candidate("1.1.0", BITBUCKET)])
    assert choice.code == OFFERED and choice.candidate.number == "1.1.0"


def test_unparseable_candidates_are_ignored():
    assert choose("1.0.0", [Candidate("not a number", BITBUCKET), Candidate("1.0.1", BITBUCKET)]).candidate.number == (
        "1.0.1"
    )


def test_candidate_ref_is_handed_back():
    marker = object()
    assert choose("1.0.0", [Candidate("1.1.0", BITBUCKET, ref=marker)]).candidate.ref is marker


@pytest.mark.parametrize("good", ["4", "4.0", "4.0.1", " 10.2.3.4 "])
def test_clean_host_version_accepts_dotted_numbers(good):
    assert clean_host_version(good) == good.strip()


@pytest.mark.parametrize("bad", ["", "   ", None, 4, "4.x", "v4.0", "1.2.3.4.5", "4..0", "1234567890.0"])
def test_clean_host_version_refuses_anything_else_naming_the_field(bad):
    with pytest.raises(ApplicationError) as exc:
        clean_host_version(bad)
    assert exc.value.field == "host_version"
    assert "dotted numbers such as 4.0 or 4.0.1" in exc.value.message


def test_build_numbers_that_disagree_with_version_order_are_said_in_the_reason():
    def pick(installed, installed_build, candidates):
        return choose_migration_offer(
            installed,
            candidates,
            product_key="bitbucket-server",
            product_name="Bitbucket Server",
            product_version="4.0",
            installed_build=installed_build,
        )

    # Higher build, lower version: not offered, and the reason says the builds point the other way.
    blocked = pick("1.2.3", 10, [Candidate("1.2.3-bitbucket", BITBUCKET, build_number=11)])
    assert blocked.code == NOT_GREATER
    assert blocked.reason.endswith(
        "; build numbers disagree with version order: 1.2.3-bitbucket has the higher build (11 > 10) but the "
        "lower version, so tools that go by build number would offer it as newer"
    )
    # Higher version, lower build: offered, with a note.
    offered = pick("1.2.3-stash", 10, [Candidate("1.2.3", BITBUCKET, build_number=9)])
    assert offered.code == OFFERED and offered.reason.startswith(
        "build numbers disagree with version order: 1.2.3 is the higher version but has the lower build (9 < 10)"
    )
    # Builds that agree add nothing.
    assert pick("1.2.3-stash", 10, [Candidate("1.2.3", BITBUCKET, build_number=11)]).reason == ""
