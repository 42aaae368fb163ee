"""Creating and editing versions: validation messages name the field, build numbers."""

import pytest

from core.errors import ApplicationError
from tests.factories import HostProductFactory, ListingFactory, MembershipFactory, VersionFactory
from versions import services
from versions.models import Version

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return MembershipFactory(role="owner")


@pytest.fixture
def listing(owner):
    return ListingFactory(vendor=owner.vendor)


def create(listing, owner, **kw):
    data = {"number": "1.0.0", "update_notes": "Notes"} | kw
    return services.version_create(listing=listing, actor=owner.user, **data)


@pytest.mark.parametrize(
    ("kwargs", "field", "text"),
    [
        ({"number": "1.0"}, "number", "missing PATCH number"),
        ({"number": "1.02.0"}, "number", "leading zero in MINOR"),
        ({"update_notes": ""}, "update_notes", "required"),
        ({"update_notes": "x" * 501}, "update_notes", "at most 500 characters (these are 501)"),
        ({"scopes": ["read jira"]}, "scopes", "invalid"),
        ({"members": ["not-an-email"]}, "members", "not a valid e-mail"),
        ({"pricing": "cheap"}, "pricing", "'free' or 'paid'"),
        ({"api_version": 0}, "api_version", "between 1 and 1000"),
        ({"channel": "Bad Channel"}, "channel", "lower-case"),
        ({"compatibility": [{"product": "nope"}]}, "compatibility", "not known"),
        ({"build_number": 0}, "build_number", "from 1 to 2147483647"),
        ({"build_number": 10**30}, "build_number", "from 1 to 2147483647"),
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(listing, owner, kwargs, field, text):
    with pytest.raises(ApplicationError) as exc:
        create(listing, owner, **kwargs)
    assert exc.value.field == field
    assert text in exc.value.message
    assert not Version.objects.exists()


def test_build_numbers_are_assigned_and_must_increase(listing, owner):
    assert create(listing, owner, number="1.0.0").build_number == 1
    assert create(listing, owner, number="1.0.1", build_number=10).build_number == 10
    assert create(listing, owner, number="1.0.2").build_number == 11
    with pytest.raises(ApplicationError) as exc:
        create(listing, owner, number="1.0.3", build_number=5)
    assert exc.value.field == "build_number" and "highest build number 11" in exc.value.message


def test_number_already_used(listing, owner):
    create(listing, owner, number="1.0.0")
    with pytest.raises(ApplicationError) as exc:
        create(listing, owner, number="1.0.0")
    assert exc.value.field == "number" and "already exists" in exc.value.message


def test_values_are_normalised(listing, owner):
    HostProductFactory(key="jira")
    v = create(
        listing,
        owner,
        scopes=["WRITE:jira-work", "read:jira-work", "read:jira-work"],
        members=["QA@Example.com"],
        compatibility=[{"product": "jira", "min": "9.0", "max": "10.1"}],
        update_notes="  padded  ",
    )
    assert v.scopes == ["read:jira-work", "write:jira-work"]
    assert v.members == ["qa@example.com"]
    assert v.update_notes == "padded"
    assert v.compatibility == [{"product": "jira", "min": "9.0", "max": "10.1"}]


def test_manual_patch_that_adds_a_scope_is_refused(listing, owner):
    VersionFactory(listing=listing, number="1.0.0", state="published", scopes=["read:jira-work"])
    with pytest.raises(ApplicationError) as exc:
        create(listing, owner, number="1.0.1", scopes=["read:jira-work", "write:jira-work"])
    assert exc.value.field == "number" and "needs a MINOR or MAJOR bump" in exc.value.message
    assert create(listing, owner, number="1.1.0", scopes=["read:jira-work", "write:jira-work"]).state == "draft"


def test_archived_listing_takes_no_versions(listing, owner):
    from django.utils import timezone

    listing.archived_at = timezone.now()
    listing.save()
    with pytest.raises(ApplicationError) as exc:
        create(listing, owner)
    assert exc.value.field == "listing"


def test_duplicate_of_a_published_version_suggests_the_next_number(listing, owner):
    published = VersionFactory(listing=listing, number="1.4.0", state="published", scopes=["read:jira-work"])
    copy = services.version_duplicate(version=published, actor=owner.user)
    assert copy.number == "1.4.1" and copy.scopes == ["read:jira-work"]
    canceled = VersionFactory(listing=listing, number="1.5.0", state="canceled")
    assert services.version_duplicate(version=canceled, actor=owner.user).number == "1.5.0"


# --- breaking changes need MAJOR (issue 10 item 7) ---------------------------------------


def test_breaking_manual_version_must_bump_major(owner, listing):
    VersionFactory(listing=listing, number="1.4.2", state="published", scopes=[])
    with pytest.raises(ApplicationError) as exc:
        create(listing, owner, number="1.5.0", breaking=True)
    assert exc.value.field == "number"
    assert "a breaking change needs a MAJOR bump (for example 2.0.0)" in exc.value.message
    assert not Version.objects.filter(number="1.5.0").exists()
    version = create(listing, owner, number="2.0.0", breaking=True)
    assert version.breaking is True
    # Without the flag a MINOR is fine; ticking it later on the draft is checked again.
    minor = create(listing, owner, number="1.5.0")
    with pytest.raises(ApplicationError) as exc:
        services.version_update(version=minor, actor=owner.user, breaking=True)
    assert exc.value.field == "number"
    minor.refresh_from_db()
    assert minor.breaking is False
    # A duplicate is a new change: the flag is not copied.
    version = services.version_cancel(version=version, actor=owner.user)
    assert services.version_duplicate(version=version, actor=owner.user).breaking is False


def test_breaking_ocp_version_must_raise_major_over_the_generally_available_one(owner):
    ocp = ListingFactory(vendor=owner.vendor, scheme="ocp")
    VersionFactory(listing=ocp, number="1.4.2", state="published")
    for number in ("1.5.0", "1.5.0-beta.1"):
        with pytest.raises(ApplicationError) as exc:
            create(ocp, owner, number=number, breaking=True)
        assert exc.value.field == "number" and "MAJOR bump over the generally available 1.4.2" in exc.value.message
    assert create(ocp, owner, number="2.0.0-beta.1", breaking=True).channel == "beta"


@pytest.mark.parametrize("scheme", ["connect", "forge", "bundle"])
def test_breaking_is_refused_where_the_portal_makes_the_number(owner, scheme):
    other = ListingFactory(vendor=owner.vendor, scheme=scheme)
    with pytest.raises(ApplicationError) as exc:
        create(other, owner, number="1.0.0", breaking=True)
    assert exc.value.field == "breaking" and f"{scheme} listings are numbered by the portal" in exc.value.message
    with pytest.raises(ApplicationError) as exc:
        create(ListingFactory(vendor=owner.vendor), owner, breaking="yes")
    assert exc.value.field == "breaking"


def test_submit_checks_the_breaking_bump_against_what_went_live_since(owner, listing):
    draft = create(listing, owner, number="1.1.0", breaking=True)  # nothing live yet: any number
    VersionFactory(listing=listing, number="1.0.0", state="published")
    with pytest.raises(ApplicationError) as exc:
        services.version_submit(version=draft, actor=owner.user)
    assert exc.value.field == "number" and "breaking change needs a MAJOR" in exc.value.message
    draft.refresh_from_db()
    assert draft.state == "draft"


# --- scopes that require others (issue 10 item 6) ------------------------------------------


@pytest.fixture
def scope_requirements(db):
    from marketplace.services import scope_create

    scope_create(name="read:jira-work", sensitivity=1)
    scope_create(name="write:jira-work", sensitivity=2, requires=["read:jira-work"])


def test_submission_is_refused_until_the_required_scope_is_added(owner, listing, scope_requirements):
    draft = create(listing, owner, scopes=["write:jira-work"])  # a draft may lack it while the vendor works
    with pytest.raises(ApplicationError) as exc:
        services.version_submit(version=draft, actor=owner.user)
    assert exc.value.field == "scopes" and exc.value.code == "missing_required_scope"
    assert "write:jira-work requires read:jira-work" in exc.value.message
    assert "Add read:jira-work" in exc.value.message
    draft.refresh_from_db()
    assert draft.state == "draft"
    draft = services.version_update(version=draft, actor=owner.user, scopes=["write:jira-work", "read:jira-work"])
    assert services.version_submit(version=draft, actor=owner.user).state == "pending_approval"


def test_versions_the_portal_makes_keep_the_scopes_the_app_declares(owner, scope_requirements):
    connect = ListingFactory(vendor=owner.vendor, scheme="connect")
    version = services.version_create(
        listing=connect, actor=None, number="1.0.0", update_notes="Auto", scopes=["write:jira-work"], source="poll"
    )
    assert services.version_submit(version=version, actor=None).state == "published"
