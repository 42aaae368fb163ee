"""Fixtures for the reviewer workspace: the four kinds of people who open the admin."""

from __future__ import annotations

import pytest

from tests.factories import ListingFactory, MembershipFactory, ScopeFactory, UserFactory, VersionFactory
from tests.reviews.queue import waiting_version


@pytest.fixture
def reviewers_group(db):
    from reviews.services import reviewers_group_sync

    # The data migration creates it; tests that flush tables (transactional ones) lose it.
    return reviewers_group_sync()


@pytest.fixture
def group_reviewer(reviewers_group):
    """Marketplace staff in the Reviewers group (how the demo reviewer is set up)."""
    user = UserFactory(is_staff=True)
    user.groups.add(reviewers_group)
    return user


@pytest.fixture
def other_reviewer(reviewers_group):
    user = UserFactory(is_staff=True)
    user.groups.add(reviewers_group)
    return user


@pytest.fixture
def staff_without_group(db):
    return UserFactory(is_staff=True)


@pytest.fixture
def catalogue(db):
    for name, level in [("read:jira-work", 1), ("write:jira-work", 2), ("read:jira-user", 1), ("admin", 4)]:
        ScopeFactory(name=name, sensitivity=level)


@pytest.fixture
def vendor_listing(catalogue):
    """A listing with a published 1.0.0 (read:jira-work, free) and one member."""
    membership = MembershipFactory(role="owner")
    listing = ListingFactory(vendor=membership.vendor, key="acme-timer", name="Acme Timer")
    VersionFactory(listing=listing, number="1.0.0", scopes=["read:jira-work"], state="published")
    listing.member = membership.user
    return listing


@pytest.fixture
def pending(vendor_listing):
    """1.1.0 adds write:jira-work (an increase: customers must consent)."""
    return waiting_version(
        vendor_listing, "1.1.0", scopes=["read:jira-work", "write:jira-work"], update_notes="Edit worklogs."
    )


@pytest.fixture
def lead(reviewers_group):
    """A review lead (the `Review leads` group from the data migration)."""
    from reviews.services import review_leads_group_sync

    user = UserFactory(is_staff=True)
    user.groups.add(reviewers_group, review_leads_group_sync())
    return user


@pytest.fixture
def claimed(pending, group_reviewer):
    """`pending` claimed by group_reviewer (in review)."""
    from reviews.services import review_claim

    return review_claim(version=pending, actor=group_reviewer)
