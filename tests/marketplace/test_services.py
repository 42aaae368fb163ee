"""Catalogue services: listing rules, permissions, archive."""

import pytest

from core.errors import ApplicationError, NotFound, PermissionDenied
from marketplace import services
from marketplace.models import Listing
from tests.factories import ListingFactory, MembershipFactory, VersionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return MembershipFactory(role="owner")


@pytest.mark.parametrize("key", ["A-app", "1app", "a", "app_x", "app key", "a" * 64, ""])
def test_listing_key_rule_is_explained(owner, key):
    with pytest.raises(ApplicationError) as exc:
        services.listing_create(vendor=owner.vendor, actor=owner.user, key=key, name="X")
    assert exc.value.field == "key" and "must start with a lower-case letter" in exc.value.message
    assert not Listing.objects.exists()


def test_listing_key_is_unique(owner):
    services.listing_create(vendor=owner.vendor, actor=owner.user, key="my-app", name="X")
    with pytest.raises(ApplicationError) as exc:
        services.listing_create(vendor=owner.vendor, actor=owner.user, key="my-app", name="Y")
    assert "already taken" in exc.value.message


def test_connect_listing_needs_a_safe_descriptor_url(owner):
    with pytest.raises(ApplicationError) as exc:
        services.listing_create(vendor=owner.vendor, actor=owner.user, key="c-app", name="C", scheme="connect")
    assert exc.value.field == "descriptor_url"
    for bad in ["ftp://x.example.com/d.json", "https://user:pw@x.example.com/d.json", "not a url"]:
        with pytest.raises(ApplicationError):
            services.listing_create(
                vendor=owner.vendor, actor=owner.user, key="c-app", name="C", scheme="connect", descriptor_url=bad
            )
    listing = services.listing_create(
        vendor=owner.vendor,
        actor=owner.user,
        key="c-app",
        name="C",
        scheme="connect",
        descriptor_url="https://x.example.com/atlassian-connect.json",
    )
    assert listing.descriptor_url.endswith("atlassian-connect.json")


def test_non_members_cannot_create_or_edit(owner):
    stranger = MembershipFactory().user
    with pytest.raises(NotFound):
        services.listing_create(vendor=owner.vendor, actor=stranger, key="x-app", name="X")
    listing = ListingFactory(vendor=owner.vendor, name="Before")
    with pytest.raises(NotFound):
        services.listing_update(listing=listing, actor=stranger, name="After")
    listing.refresh_from_db()
    assert listing.name == "Before"


def test_key_and_scheme_are_fixed_once_used(owner):
    listing = ListingFactory(vendor=owner.vendor)
    with pytest.raises(ApplicationError) as exc:
        services.listing_update(listing=listing, actor=owner.user, key="other-key")
    assert exc.value.field == "key"
    VersionFactory(listing=listing)
    with pytest.raises(ApplicationError) as exc:
        services.listing_update(listing=listing, actor=owner.user, scheme="ocp")
    assert exc.value.field == "scheme"


def test_only_owners_archive(owner):
    listing = ListingFactory(vendor=owner.vendor)
    developer = MembershipFactory(vendor=owner.vendor, role="developer").user
    with pytest.raises(PermissionDenied):
        services.listing_archive(listing=listing, actor=developer)
    services.listing_archive(listing=listing, actor=owner.user)
    listing.refresh_from_db()
    assert listing.archived_at is not None
    services.listing_unarchive(listing=listing, actor=owner.user)
    listing.refresh_from_db()
    assert listing.archived_at is None


def test_scope_requirements_live_in_the_catalogue():
    from marketplace.selectors import scope_requirements

    services.scope_create(name="read:jira-work", sensitivity=1)
    write = services.scope_create(name="write:jira-work", sensitivity=2, requires=["READ:jira-work"])
    assert [s.name for s in write.requires.all()] == ["read:jira-work"]
    assert scope_requirements() == {"write:jira-work": ("read:jira-work",)}
    # Changing the requirement (admin, m2m) is seen at once: the cached map is forgotten.
    write.requires.clear()
    assert scope_requirements() == {}
    with pytest.raises(ApplicationError) as exc:
        services.scope_create(name="delete:jira-work", requires=["read:nothing"])
    assert exc.value.field == "requires" and "read:nothing is not in the catalogue" in exc.value.message
    with pytest.raises(ApplicationError) as exc:
        services.scope_create(name="write:jira-work", requires=["write:jira-work"])
    assert exc.value.field == "requires" and "can't require itself" in exc.value.message
