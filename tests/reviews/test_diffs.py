"""Pure diff rules: no database."""

from __future__ import annotations

from reviews.diffs import descriptor_diff, review_diff

CATALOGUE = {"read:jira-work": 1, "write:jira-work": 2, "read:jira-user": 1, "admin": 4}


def test_added_write_scope_needs_consent_with_sensitivity():
    diff = review_diff(
        previous_scopes=["read:jira-work"],
        scopes=["read:jira-work", "write:jira-work"],
        previous_pricing="free",
        pricing="free",
        catalogue=CATALOGUE,
    )
    assert [(r.name, r.sensitivity, r.increase) for r in diff.added] == [("write:jira-work", "write", True)]
    assert diff.removed == ()
    assert diff.needs_consent
    assert diff.consent_reasons == ("new scope write:jira-work",)
    assert diff.added[0].needs_consent


def test_removed_scope_and_covered_read_are_not_an_increase():
    diff = review_diff(
        previous_scopes=["write:jira-work", "admin"],
        scopes=["write:jira-work", "read:jira-work"],
        previous_pricing="paid",
        pricing="paid",
        catalogue=CATALOGUE,
    )
    assert [(r.name, r.increase) for r in diff.added] == [("read:jira-work", False)]
    assert [(r.name, r.sensitivity) for r in diff.removed] == [("admin", "admin")]
    assert not diff.needs_consent
    assert not diff.pricing.changed


def test_unknown_scope_is_most_sensitive_and_flagged():
    diff = review_diff(
        previous_scopes=[], scopes=["act:as-user"], previous_pricing="free", pricing="free", catalogue=CATALOGUE
    )
    assert diff.added[0].sensitivity == "admin (not in the catalogue)"
    assert diff.added[0].increase


def test_free_to_paid_needs_consent_even_without_scope_change():
    diff = review_diff(
        previous_scopes=["read:jira-work"],
        scopes=["read:jira-work"],
        previous_pricing="free",
        pricing="paid",
        catalogue=CATALOGUE,
    )
    assert diff.pricing.changed and diff.pricing.free_to_paid
    assert diff.consent_reasons == ("price: free -> paid",) and diff.price_needs_consent


def test_first_release_lists_scopes_but_asks_nobody():
    diff = review_diff(
        previous_scopes=None, scopes=["admin"], previous_pricing=None, pricing="paid", catalogue=CATALOGUE
    )
    assert not diff.has_previous
    assert [r.name for r in diff.added] == ["admin"]
    assert not diff.added[0].increase
    assert not diff.needs_consent
    assert not diff.pricing.changed


def test_consent_follows_the_listings_scheme():
    """The review asks the rollout's policy: OCP only for MAJOR, bundle never."""
    common = {
        "previous_scopes": ["read:jira-work"],
        "scopes": ["read:jira-work", "write:jira-work"],
        "previous_pricing": "free",
        "pricing": "paid",
        "catalogue": CATALOGUE,
        "previous_number": "1.0.0",
    }
    ocp_minor = review_diff(scheme="ocp", number="1.1.0", **common)
    assert not ocp_minor.needs_consent and not ocp_minor.price_needs_consent
    assert [(r.name, r.increase, r.needs_consent) for r in ocp_minor.added] == [("write:jira-work", True, False)]
    assert review_diff(scheme="ocp", number="2.0.0", **common).consent_reasons == ("major upgrade 1.x -> 2.x",)
    assert not review_diff(scheme="bundle", number="1.1.0", **common).needs_consent
    assert review_diff(scheme="forge", number="2.0.0", **common).consent_reasons == (
        "new scope write:jira-work",
        "price: free -> paid",
    )


def test_descriptor_diff_added_removed_changed_nested_keys():
    old = {"key": "app", "apiVersion": 1, "lifecycle": {"installed": "/i"}, "scopes": ["READ", "WRITE"], "links": {}}
    new = {
        "key": "app",
        "apiVersion": 2,
        "lifecycle": {"installed": "/i", "uninstalled": "/u"},
        "scopes": ["write", "read"],
    }
    diff = descriptor_diff(old, new)
    assert [c.key for c in diff.added] == ["lifecycle.uninstalled"]
    assert [(c.key, c.old) for c in diff.removed] == [("links", {})]
    assert [(c.key, c.old, c.new) for c in diff.changed] == [("apiVersion", 1, 2)]
    assert diff.changed[0].new_json == "2"


def test_descriptor_diff_ignores_key_and_scope_order_and_handles_null():
    assert descriptor_diff({"a": 1, "scopes": ["x", "y"]}, {"scopes": ["Y", "x"], "a": 1}).is_empty
    first = descriptor_diff(None, {"key": "app"})
    assert [c.key for c in first.added] == ["key"] and not first.removed
    assert descriptor_diff(None, None).is_empty


def test_comparison_with_another_channel_shows_widening_but_asks_nobody():
    diff = review_diff(
        previous_scopes=["read:jira-work"],
        scopes=["write:jira-work"],
        previous_pricing="free",
        pricing="paid",
        catalogue=CATALOGUE,
        consent_applies=False,
    )
    assert [(r.name, r.increase) for r in diff.added] == [("write:jira-work", True)]
    assert diff.pricing.free_to_paid
    assert not diff.needs_consent


def test_connect_removed_and_replaced_scopes_need_consent_in_the_reviewer_diff():
    diff = review_diff(
        previous_scopes=["read:jira-work", "admin"],
        scopes=["write:jira-work"],
        previous_pricing="free",
        pricing="free",
        catalogue=CATALOGUE,
        scheme="connect",
        previous_number="1.0.0",
        number="1.1.0",
    )
    assert diff.consent_reasons == ("scope removed: admin", "scope replaced: read:jira-work -> write:jira-work")
    assert [(r.name, r.needs_consent) for r in diff.removed] == [("admin", True), ("read:jira-work", True)]
    assert [(r.name, r.needs_consent) for r in diff.added] == [("write:jira-work", True)]
