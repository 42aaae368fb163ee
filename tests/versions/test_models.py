"""Version model: immutability at the model level, database constraints, sort key in SQL."""

import pytest
import semver
from django.db import IntegrityError, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import ListingFactory, VersionFactory
from versions.models import ImmutableVersionError, Version

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("state", ["published", "superseded"])
def test_saving_a_changed_field_of_a_released_version_raises(state):
    version = VersionFactory(state=state, update_notes="Original", scopes=["read:jira-work"])
    version = Version.objects.get(pk=version.pk)
    version.scopes = ["admin"]
    with pytest.raises(ImmutableVersionError) as exc:
        version.save()
    assert "scopes" in str(exc.value)
    assert Version.objects.get(pk=version.pk).scopes == ["read:jira-work"]


def test_queryset_update_and_bulk_update_cannot_change_released_versions():
    version = VersionFactory(state="published", update_notes="Original")
    with pytest.raises(ImmutableVersionError):
        Version.objects.filter(pk=version.pk).update(update_notes="Changed")
    loaded = Version.objects.get(pk=version.pk)
    loaded.update_notes = "Changed"
    with pytest.raises(ImmutableVersionError):
        Version.objects.bulk_update([loaded], ["update_notes"])
    assert Version.objects.get(pk=version.pk).update_notes == "Original"


def test_released_versions_cannot_be_deleted():
    version = Version.objects.get(pk=VersionFactory(state="published").pk)
    with pytest.raises(ImmutableVersionError):
        version.delete()
    assert Version.objects.filter(pk=version.pk).exists()


def test_drafts_stay_editable():
    version = Version.objects.get(pk=VersionFactory(state="draft").pk)
    version.update_notes = "Edited"
    version.save()
    assert Version.objects.get(pk=version.pk).update_notes == "Edited"


def test_state_field_is_protected():
    version = Version.objects.get(pk=VersionFactory(state="draft").pk)
    with pytest.raises(AttributeError):
        version.state = "published"


def test_one_published_version_per_listing_and_channel():
    listing = ListingFactory()
    VersionFactory(listing=listing, number="1.0.0", state="published")
    VersionFactory(listing=listing, number="1.0.0-stash", channel="stash", state="published")
    with pytest.raises(IntegrityError), transaction.atomic():
        VersionFactory(listing=listing, number="1.1.0", state="published")


def test_build_numbers_are_unique_per_listing():
    listing = ListingFactory()
    VersionFactory(listing=listing, number="1.0.0", build_number=7)
    VersionFactory(number="1.0.0", build_number=7)  # another listing may reuse it
    with pytest.raises(IntegrityError), transaction.atomic():
        VersionFactory(listing=listing, number="1.0.1", build_number=7)


@pytest.mark.parametrize("notes", ["", "x" * 501])
def test_update_notes_length_is_checked_by_the_database(notes):
    with pytest.raises(IntegrityError), transaction.atomic():
        VersionFactory(update_notes=notes)


def test_a_live_number_is_unique_but_canceled_and_rejected_release_it():
    listing = ListingFactory()
    VersionFactory(listing=listing, number="1.0.0", state="canceled")
    VersionFactory(listing=listing, number="1.0.0", state="rejected")
    VersionFactory(listing=listing, number="1.0.0", state="draft")
    with pytest.raises(IntegrityError), transaction.atomic():
        VersionFactory(listing=listing, number="1.0.0", state="pending_approval")


identifier = st.one_of(
    st.integers(min_value=0, max_value=10**6).map(str),
    st.text(alphabet="abz-AZ0", min_size=1, max_size=4).filter(lambda s: not s.isdigit()),
)
numbers = st.builds(
    lambda ma, mi, pa, pre: f"{ma}.{mi}.{pa}" + (("-" + ".".join(pre)) if pre else ""),
    st.integers(0, 3000),
    st.integers(0, 12),
    st.integers(0, 12),
    st.lists(identifier, max_size=3),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(numbers, min_size=2, max_size=12, unique_by=lambda t: semver.Version.parse(t).to_tuple()[:4]))
def test_sql_order_by_sort_key_is_semver_precedence(texts):
    listing = ListingFactory()
    for index, text in enumerate(texts):
        VersionFactory(listing=listing, number=text, build_number=index + 1)
    in_sql = list(Version.objects.filter(listing=listing).order_by("sort_key").values_list("number", flat=True))
    expected = sorted(texts, key=lambda t: semver.Version.parse(t))
    assert in_sql == expected
    # "greater than" in SQL agrees too
    pivot = expected[len(expected) // 2]
    greater = set(
        Version.objects.filter(
            listing=listing, sort_key__gt=Version.objects.get(listing=listing, number=pivot).sort_key
        ).values_list("number", flat=True)
    )
    assert greater == {t for t in texts if semver.Version.parse(t) > semver.Version.parse(pivot)}
    Version.objects.filter(listing=listing).delete()
