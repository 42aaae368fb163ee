"""Vendor portal pages for versions: the form, the version page, its actions and the live checks."""

from __future__ import annotations

from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import (
    HostProductFactory,
    ListingFactory,
    MembershipFactory,
    ScopeFactory,
    UserFactory,
    VendorFactory,
    VersionFactory,
)
from versions import services
from versions.models import Version, VersionTransition
from versions.selectors import consent_preview_from, version_vendor_actions


@pytest.fixture
def owner(db):
    return MembershipFactory(role="owner", user=UserFactory(username="olivia")).user


@pytest.fixture
def vendor(owner):
    return owner.vendor_memberships.get().vendor


@pytest.fixture
def listing(vendor):
    return ListingFactory(vendor=vendor, key="time-tracker", name="Time Tracker", scheme="manual", pricing="free")


@pytest.fixture
def client(owner):
    client = Client()
    client.force_login(owner)
    return client


@pytest.fixture
def other_version(db):
    """A version of vendor B."""
    rival = ListingFactory(key="rival-app", vendor=VendorFactory(name="Rival Inc"))
    return VersionFactory(listing=rival, number="2.0.0", state="draft", update_notes="Rival notes.")


def version_post(**overrides):
    data = {"number": "1.0.0", "channel": "release", "update_notes": "First release.", "pricing": "free"}
    data.update(overrides)
    return data


def create_url(listing):
    return reverse("portal:version-create", args=[listing.key])


# --- create ------------------------------------------------------------------------------


def test_version_form_shows_rules_counter_picker_and_labels(client, listing):
    ScopeFactory(name="read:jira-work", sensitivity=1)
    HostProductFactory(key="jira", name="Jira")
    html = client.get(create_url(listing)).content.decode()
    assert 'name="csrfmiddlewaretoken"' in html
    assert "MAJOR.MINOR.PATCH" in html and "a PATCH may add no scope" in html
    assert 'data-max-length="500"' in html and 'id="notes-counter"' in html
    assert 'value="read:jira-work"' in html and 'id="id_other_scopes"' in html
    for field in ["number", "channel", "update_notes", "other_scopes", "members", "pricing", "api_version"]:
        assert f'<label for="id_{field}">' in html
    assert "Jira" in html
    assert reverse("portal:version-check-number") in html


def test_create_version(client, listing, owner):
    ScopeFactory(name="read:jira-work", sensitivity=1)
    jira = HostProductFactory(key="jira", name="Jira")
    response = client.post(
        create_url(listing),
        version_post(
            scopes=["read:jira-work"],
            other_scopes="write:custom-thing",
            members="a@example.com, B@example.com",
            api_version="2",
            **{f"compat_{jira.pk}": "on", f"compat_{jira.pk}_min": "9.0", f"compat_{jira.pk}_max": "10.1"},
        ),
    )
    version = Version.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:version-detail", args=[version.pk])
    assert version.state == "draft"
    assert version.scopes == ["read:jira-work", "write:custom-thing"]
    assert version.members == ["a@example.com", "b@example.com"]
    assert version.api_version == 2
    assert version.compatibility == [{"product": "jira", "min": "9.0", "max": "10.1"}]
    assert version.created_by == owner


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"number": "1.2"}, "number", "missing PATCH number"),
        ({"number": "01.2.3"}, "number", "leading zero in MAJOR"),
        ({"number": "v1.2.3"}, "number", "must not start with 'v'"),
        ({"update_notes": ""}, "update_notes", "Update notes are required"),
        ({"update_notes": "x" * 501}, "update_notes", "at most 500 characters (these are 501)"),
        ({"other_scopes": "read:jira work!"}, "other_scopes", "is invalid"),  # typed there, told there
        ({"members": "not-an-email"}, "members", "not a valid e-mail address"),
        ({"api_version": "two"}, "api_version", "whole number"),
        ({"channel": "Beta Channel"}, "channel", "is invalid"),
    ],
)
def test_create_version_refusals_are_next_to_the_field_and_save_nothing(client, listing, overrides, field, message):
    response = client.post(create_url(listing), version_post(**overrides))
    assert response.status_code == 200
    errors = response.context["form"].errors[field]
    assert message in errors[0]
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not Version.objects.exists()
    assert not VersionTransition.objects.exists()


def test_create_version_compatibility_error_is_shown_in_the_compatibility_table(client, listing):
    jira = HostProductFactory(key="jira", name="Jira")
    response = client.post(
        create_url(listing),
        version_post(**{f"compat_{jira.pk}": "on", f"compat_{jira.pk}_min": "10", f"compat_{jira.pk}_max": "9"}),
    )
    assert "min 10 is above max 9" in response.context["form"].errors["compatibility"][0]
    assert 'id="id_compatibility_error"' in response.content.decode()
    assert not Version.objects.exists()


def test_ocp_number_rules_on_the_form(client, vendor):
    listing = ListingFactory(vendor=vendor, key="ocp-app", scheme="ocp")
    response = client.post(create_url(listing), version_post(number="1.0.0-beta-1"))
    assert "not '-'" in response.context["form"].errors["number"][0]
    assert "channel" not in response.context["form"].fields
    client.post(create_url(listing), version_post(number="1.0.0-beta.1"))
    assert Version.objects.get().channel == "beta"


def test_manual_patch_that_adds_a_scope_is_refused_with_minor_or_major(client, listing):
    VersionFactory(listing=listing, number="1.0.0", state="published", scopes=["read:jira-work"])
    response = client.post(
        create_url(listing), version_post(number="1.0.1", other_scopes="read:jira-work write:jira-work")
    )
    error = response.context["form"].errors["number"][0]
    assert "PATCH bump from 1.0.0" in error and "MINOR or MAJOR" in error and "write:jira-work" in error
    assert Version.objects.count() == 1
    ok = client.post(create_url(listing), version_post(number="1.1.0", other_scopes="read:jira-work write:jira-work"))
    assert ok.status_code == 302


def test_create_version_on_archived_listing_is_refused(client, listing):
    listing.archived_at = "2026-01-01T00:00:00Z"
    listing.save()
    response = client.post(create_url(listing), version_post())
    assert "archived" in str(response.context["form"].non_field_errors())
    assert not Version.objects.exists()


def test_create_form_preview_shows_consent_reasons(client, listing):
    ScopeFactory(name="read:jira-work", sensitivity=1)
    ScopeFactory(name="write:jira-work", sensitivity=2)
    VersionFactory(listing=listing, number="1.0.0", state="published", scopes=["read:jira-work"])
    response = client.post(
        create_url(listing), version_post(number="1.0.1", scopes=["read:jira-work", "write:jira-work"], pricing="paid")
    )
    assert response.context["preview"].summary == "new scope write:jira-work; price: free -> paid"
    assert "new scope write:jira-work; price: free -&gt; paid" in response.content.decode()


# --- version page --------------------------------------------------------------------------


def test_version_page_shows_fields_history_and_draft_actions(client, listing, owner):
    version = services.version_create(
        listing=listing, actor=owner, number="1.0.0", update_notes="Hello customers.", scopes=["read:jira-work"]
    )
    response = client.get(reverse("portal:version-detail", args=[version.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Hello customers." in html and "read:jira-work" in html and "Build number" in html
    assert response.context["actions"] == ["edit", "submit", "cancel"]
    assert reverse("portal:version-submit", args=[version.pk]) in html
    assert reverse("portal:version-publish", args=[version.pk]) not in html
    assert [t.name for t in response.context["history"]] == ["create"]
    assert html.count('name="csrfmiddlewaretoken"') >= 2


def test_version_page_shows_reviewer_comments_when_rejected(client, listing, owner, reviewer):
    version = services.version_create(listing=listing, actor=owner, number="1.0.0", update_notes="Notes.")
    services.version_submit(version=version, actor=owner)
    services.version_start_review(version=version, actor=reviewer)
    services.version_reject(version=version, actor=reviewer, comment="The icon is missing.")
    html = client.get(reverse("portal:version-detail", args=[version.pk])).content.decode()
    assert "Reviewer comments" in html and "The icon is missing." in html
    assert "sends it back to draft" in html
    assert reverse("portal:version-duplicate", args=[version.pk]) in html
    # After the fix starts (edit -> draft) the comments stay in view.
    services.version_update(version=version, actor=owner, update_notes="Icon added.")
    html = client.get(reverse("portal:version-detail", args=[version.pk])).content.decode()
    assert "The icon is missing." in html and "Edit the version to fix it" not in html


@pytest.mark.parametrize(
    ("state", "actions"),
    [
        ("draft", ["edit", "submit", "cancel"]),
        ("pending_approval", ["withdraw", "cancel"]),
        ("in_review", ["withdraw", "cancel"]),
        ("approved", ["withdraw", "publish", "schedule"]),
        ("rejected", ["edit", "duplicate"]),
        ("published", ["duplicate"]),
        ("superseded", ["duplicate", "rerelease"]),
        ("canceled", ["duplicate"]),
    ],
)
def test_vendor_actions_per_state(state, actions):
    assert version_vendor_actions(Version(state=state)) == actions


# --- edit -------------------------------------------------------------------------------------


def test_edit_draft(client, listing, owner):
    version = services.version_create(listing=listing, actor=owner, number="1.0.0", update_notes="Old.")
    url = reverse("portal:version-edit", args=[version.pk])
    assert client.get(url).context["form"].initial["update_notes"] == "Old."
    response = client.post(url, version_post(update_notes="New notes."))
    assert response.status_code == 302
    version.refresh_from_db()
    assert (version.update_notes, version.state) == ("New notes.", "draft")


@pytest.mark.parametrize("state", ["pending_approval", "in_review", "approved"])
def test_a_submitted_version_is_read_only_on_the_page_until_withdrawn(client, listing, owner, state):
    version = VersionFactory(listing=listing, number="1.0.0", state=state, update_notes="Old.")
    detail = reverse("portal:version-detail", args=[version.pk])
    edit = reverse("portal:version-edit", args=[version.pk])
    html = client.get(detail).content.decode()
    assert edit not in html and "Withdraw to draft" in html and "read-only" in html
    # The edit page (GET or POST) refuses, says why and changes nothing.
    response = client.post(edit, version_post(update_notes="Changed."), follow=True)
    assert "read-only: withdraw it to draft" in unescape(response.content.decode())
    version.refresh_from_db()
    assert (version.update_notes, version.state) == ("Old.", state)
    # Withdraw (with a reason), then edit.
    response = client.post(
        reverse("portal:version-withdraw", args=[version.pk]), {"comment": "notes were wrong"}, follow=True
    )
    assert "is back in draft" in unescape(response.content.decode())
    version.refresh_from_db()
    assert version.state == "draft"
    row = version.transitions.first()
    assert (row.name, row.from_state, row.comment) == ("withdraw", state, "notes were wrong")
    assert client.post(edit, version_post(update_notes="Changed.")).status_code == 302
    version.refresh_from_db()
    assert (version.update_notes, version.state) == ("Changed.", "draft")


def test_withdrawing_a_draft_says_why_and_changes_nothing(client, listing, owner):
    version = services.version_create(listing=listing, actor=owner, number="1.0.0", update_notes="Old.")
    response = client.post(reverse("portal:version-withdraw", args=[version.pk]), follow=True)
    assert "Cannot withdraw to draft" in unescape(response.content.decode())
    assert not version.transitions.filter(name="withdraw").exists()


def test_another_vendor_cannot_withdraw(client, listing):
    other = VersionFactory(number="1.0.0", state="pending_approval")
    assert client.post(reverse("portal:version-withdraw", args=[other.pk])).status_code == 404
    other.refresh_from_db()
    assert other.state == "pending_approval"


def test_edit_refusal_changes_nothing(client, listing, owner):
    version = services.version_create(listing=listing, actor=owner, number="1.0.0", update_notes="Old.")
    response = client.post(reverse("portal:version-edit", args=[version.pk]), version_post(number="1.0"))
    assert "missing PATCH number" in response.context["form"].errors["number"][0]
    version.refresh_from_db()
    assert (version.number, version.state) == ("1.0.0", "draft")


def test_manual_patch_edit_that_adds_a_scope_is_refused(client, listing, owner):
    VersionFactory(listing=listing, number="1.0.0", state="published", scopes=[])
    version = services.version_create(listing=listing, actor=owner, number="1.0.1", update_notes="Fix.")
    response = client.post(
        reverse("portal:version-edit", args=[version.pk]), version_post(number="1.0.1", other_scopes="write:jira-work")
    )
    assert "MINOR or MAJOR" in response.context["form"].errors["number"][0]
    version.refresh_from_db()
    assert version.scopes == []


def test_published_version_cannot_be_edited(client, listing):
    version = VersionFactory(listing=listing, number="1.0.0", state="published", update_notes="Live.")
    url = reverse("portal:version-edit", args=[version.pk])
    response = client.post(url, version_post(update_notes="Sneaky."), follow=True)
    assert "can't be edited" in unescape(response.content.decode())
    version.refresh_from_db()
    assert version.update_notes == "Live."


# --- transitions ------------------------------------------------------------------------------


def test_submit_cancel_and_comment(client, listing, owner):
    version = services.version_create(listing=listing, actor=owner, number="1.0.0", update_notes="Notes.")
    client.post(reverse("portal:version-submit", args=[version.pk]))
    version.refresh_from_db()
    assert version.state == "pending_approval"
    client.post(reverse("portal:version-cancel", args=[version.pk]), {"comment": "Wrong build."})
    version.refresh_from_db()
    assert version.state == "canceled"
    assert version.transitions.first().comment == "Wrong build."


def test_submit_validates_everything(client, listing, owner):
    VersionFactory(listing=listing, number="2.0.0", state="published")
    version = VersionFactory(listing=listing, number="1.5.0", state="draft")
    response = client.post(reverse("portal:version-submit", args=[version.pk]), follow=True)
    assert "must be greater than every published version" in response.content.decode()
    version.refresh_from_db()
    assert version.state == "draft"


def test_publish_only_approved(client, listing, owner, reviewer):
    version = services.version_create(listing=listing, actor=owner, number="1.0.0", update_notes="Notes.")
    response = client.post(reverse("portal:version-publish", args=[version.pk]), follow=True)
    assert "only approved versions can be published" in response.content.decode()
    version.refresh_from_db()
    assert version.state == "draft"
    services.version_submit(version=version, actor=owner)
    services.version_start_review(version=version, actor=reviewer)
    services.version_approve(version=version, actor=reviewer)
    client.post(reverse("portal:version-publish", args=[version.pk]))
    version.refresh_from_db()
    assert version.state == "published"


def test_duplicate_makes_a_new_draft(client, listing):
    version = VersionFactory(listing=listing, number="1.0.0", state="published", update_notes="Live.")
    response = client.post(reverse("portal:version-duplicate", args=[version.pk]))
    copy = Version.objects.exclude(pk=version.pk).get()
    assert response["Location"] == reverse("portal:version-edit", args=[copy.pk])
    assert (copy.state, copy.number, copy.update_notes) == ("draft", "1.0.1", "Live.")
    client.post(reverse("portal:version-duplicate", args=[version.pk]), {"number": "1.0"})
    assert Version.objects.count() == 2


def test_duplicate_of_a_draft_is_refused(client, listing):
    version = VersionFactory(listing=listing, number="1.0.0", state="draft")
    response = client.post(reverse("portal:version-duplicate", args=[version.pk]), follow=True)
    assert "can be duplicated" in response.content.decode()
    assert Version.objects.count() == 1


@pytest.mark.parametrize("name", ["version-submit", "version-cancel", "version-publish", "version-duplicate"])
def test_transitions_are_post_only(client, listing, name):
    version = VersionFactory(listing=listing, number="1.0.0", state="draft")
    assert client.get(reverse(f"portal:{name}", args=[version.pk])).status_code == 405


def test_transition_without_csrf_token_is_refused(owner, listing):
    version = VersionFactory(listing=listing, number="1.0.0", state="draft")
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.post(reverse("portal:version-submit", args=[version.pk])).status_code == 403
    version.refresh_from_db()
    assert version.state == "draft"


# --- vendor A never reaches vendor B --------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "name"),
    [
        ("get", "version-detail"),
        ("get", "version-edit"),
        ("post", "version-edit"),
        ("post", "version-submit"),
        ("post", "version-cancel"),
        ("post", "version-publish"),
        ("post", "version-duplicate"),
    ],
)
def test_other_vendors_version_is_not_found(client, other_version, method, name):
    response = getattr(client, method)(
        reverse(f"portal:{name}", args=[other_version.pk]), version_post() if method == "post" else None
    )
    assert response.status_code == 404
    other_version.refresh_from_db()
    assert (other_version.state, other_version.update_notes) == ("draft", "Rival notes.")
    assert Version.objects.count() == 1


def test_live_checks_of_another_vendor_are_not_found(client, other_version):
    url = reverse("portal:version-check-number")
    assert client.get(url, {"listing": "rival-app", "number": "1.0.0"}).status_code == 404
    assert client.get(reverse("portal:version-preview"), {"listing": "rival-app"}).status_code == 404


def test_check_number_does_not_reveal_another_vendors_version(client, listing, other_version):
    url = reverse("portal:version-check-number")
    response = client.get(url, {"listing": listing.key, "number": "1.0.0", "version": other_version.pk})
    assert response.status_code == 404


# --- live checks -------------------------------------------------------------------------------


def test_check_number_uses_the_servers_rules(client, listing):
    url = reverse("portal:version-check-number")
    bad = client.get(url, {"listing": listing.key, "number": "1.2"}).json()
    assert bad == {
        "ok": False,
        "field": "number",
        "error": "Version number '1.2' is invalid: missing PATCH number: write MAJOR.MINOR.PATCH, for example 1.2.0.",
    }
    # The same message the form shows after a refused submit.
    refused = client.post(create_url(listing), version_post(number="1.2"))
    assert refused.context["form"].errors["number"][0] == bad["error"]
    good = client.get(url, {"listing": listing.key, "number": "1.2.0"}).json()
    assert good["ok"] and good["channel"] == "release" and good["warning"] == ""


def test_check_number_ocp_and_manual_bump(client, vendor, listing):
    ocp = ListingFactory(vendor=vendor, key="ocp-app", scheme="ocp")
    url = reverse("portal:version-check-number")
    result = client.get(url, {"listing": ocp.key, "number": "1.0.0-alpha.1"}).json()
    assert not result["ok"] and "use dev, beta or private" in result["error"]
    assert client.get(url, {"listing": ocp.key, "number": "1.0.0-private"}).json()["channel"] == "private"

    VersionFactory(listing=listing, number="1.0.0", state="published", scopes=[])
    bump = client.get(url, {"listing": listing.key, "number": "1.0.1", "scopes": "write:jira-work"}).json()
    assert not bump["ok"] and "MINOR or MAJOR" in bump["error"]
    paid = client.get(url, {"listing": listing.key, "number": "1.0.1", "scopes": "", "pricing": "paid"}).json()
    assert not paid["ok"] and "price free -> paid" in paid["error"]
    assert client.get(url, {"listing": listing.key, "number": "1.1.0", "scopes": "write:jira-work"}).json()["ok"]


def test_check_number_warns_when_a_pre_release_blocks_product_migration(client, listing):
    VersionFactory(listing=listing, number="1.2.3", state="published")
    result = client.get(
        reverse("portal:version-check-number"), {"listing": listing.key, "number": "1.2.3-bitbucket"}
    ).json()
    assert result["ok"] and "sorts below 1.2.3" in result["warning"]


def test_preview_endpoint(client, listing):
    ScopeFactory(name="read:jira-work", sensitivity=1)
    ScopeFactory(name="write:jira-work", sensitivity=2)
    url = reverse("portal:version-preview")
    first = client.get(url, {"listing": listing.key, "number": "1.0.0", "scopes": "read:jira-work"}).json()
    assert first["live_number"] is None and not first["needs_consent"]
    VersionFactory(listing=listing, number="1.0.0", state="published", scopes=["read:jira-work"])
    result = client.get(
        url, {"listing": listing.key, "number": "1.1.0", "scopes": "read:jira-work WRITE:jira-work", "pricing": "paid"}
    ).json()
    assert result["summary"] == "new scope write:jira-work; price: free -> paid"
    assert result["needs_consent"]
    bad = client.get(url, {"listing": listing.key, "number": "1.1.0", "scopes": "no spaces!"}).json()
    assert not bad["ok"]


# --- the preview rule itself (pure) ------------------------------------------------------------


def test_consent_preview_rules():
    catalogue = {"read:jira-work": 1, "write:jira-work": 2}
    preview = consent_preview_from(
        live_number="1.0.0",
        live_scopes=["write:jira-work", "admin"],
        live_pricing="free",
        scopes=["read:jira-work", "write:jira-work"],
        pricing="free",
        catalogue=catalogue,
    )
    # read is covered by the granted write on the same resource; removing admin is never an increase.
    assert not preview.needs_consent
    assert preview.notes == ("new scope read:jira-work (covered by a granted scope)", "scope removed admin")
    assert preview.summary == "Customers on 1.0.0 would be upgraded without being asked."
    unknown = consent_preview_from(
        live_number="1.0.0", live_scopes=[], live_pricing="paid", scopes=["custom:thing"], pricing="free"
    )
    assert unknown.reasons == ("new scope custom:thing",)
    assert "price: paid -> free" in unknown.notes
    first = consent_preview_from(
        live_number=None, live_scopes=[], live_pricing="free", scopes=["admin"], pricing="paid"
    )
    assert not first.needs_consent and "No live version" in first.summary


def test_update_notes_line_breaks_count_as_one_character(client, listing):
    notes = "x" * 498 + "\r\n" + "y"  # 501 characters as the browser sends them, 500 as customers see them
    response = client.post(create_url(listing), version_post(update_notes=notes))
    assert response.status_code == 302
    assert Version.objects.get().update_notes == "x" * 498 + "\ny"


def test_form_warns_when_the_number_would_block_a_product_migration(client, listing):
    VersionFactory(listing=listing, number="1.2.3", channel="stash", state="published")
    draft = VersionFactory(listing=listing, number="1.2.3-bitbucket", channel="release", state="draft")
    response = client.get(reverse("portal:version-edit", args=[draft.pk]))
    assert "sorts below 1.2.3" in response.context["number_check"]["warning"]
    assert "Warning: Product migration: 1.2.3-bitbucket sorts below 1.2.3" in unescape(response.content.decode())
    plain = client.get(create_url(listing))
    assert plain.context["number_check"] is None


def test_consent_preview_follows_the_schemes_consent_rule():
    """The preview asks the same policy as the rollout: OCP asks only for MAJOR, bundle never."""
    common = {"live_number": "1.0.0", "live_scopes": ["read:a"], "live_pricing": "free", "pricing": "paid"}
    ocp_minor = consent_preview_from(scheme="ocp", number="1.1.0", scopes=["read:a", "write:b"], **common)
    assert not ocp_minor.needs_consent
    assert "new scope write:b (the ocp scheme does not ask for scopes)" in ocp_minor.notes
    ocp_major = consent_preview_from(scheme="ocp", number="2.0.0", scopes=["read:a"], **common)
    assert ocp_major.reasons == ("major upgrade 1.x -> 2.x",)
    bundle = consent_preview_from(scheme="bundle", number="1.1.0", scopes=["read:a", "admin"], **common)
    assert not bundle.needs_consent
    connect = consent_preview_from(scheme="connect", number="1.1.0", scopes=["read:a", "write:b"], **common)
    assert connect.reasons == ("new scope write:b", "price: free -> paid")


def test_breaking_change_box_asks_for_a_major_bump(client, listing):
    VersionFactory(listing=listing, number="1.4.2", state="published")
    page = client.get(create_url(listing)).content.decode()
    assert 'name="breaking"' in page and "must then be a MAJOR bump over the live version" in page
    refused = client.post(create_url(listing), version_post(number="1.5.0", breaking="on"))
    assert refused.status_code == 200
    assert "a breaking change needs a MAJOR bump (for example 2.0.0)" in refused.context["form"].errors["number"][0]
    assert not Version.objects.filter(listing=listing, number="1.5.0").exists()
    url = reverse("portal:version-check-number")
    live = client.get(url, {"listing": listing.key, "number": "1.5.0", "scopes": "", "breaking": "1"}).json()
    assert not live["ok"] and "breaking change needs a MAJOR" in live["error"]
    assert client.get(url, {"listing": listing.key, "number": "1.5.0", "scopes": ""}).json()["ok"]
    created = client.post(create_url(listing), version_post(number="2.0.0", breaking="on"))
    assert created.status_code == 302
    version = Version.objects.get(listing=listing, number="2.0.0")
    assert version.breaking
    assert "Breaking change" in client.get(reverse("portal:version-detail", args=[version.pk])).content.decode()


def test_breaking_box_is_not_offered_where_the_portal_makes_the_number(client, vendor):
    connect = ListingFactory(vendor=vendor, key="connect-app", scheme="connect")
    assert 'name="breaking"' not in client.get(create_url(connect)).content.decode()


def test_form_offers_to_add_a_missing_required_scope_and_submit_is_refused(client, listing):
    from marketplace.services import scope_create

    scope_create(name="read:jira-work", sensitivity=1)
    scope_create(name="write:jira-work", sensitivity=2, requires=["read:jira-work"])
    preview = client.get(
        reverse("portal:version-preview"), {"listing": listing.key, "number": "1.0.0", "scopes": "write:jira-work"}
    ).json()
    assert [(m["scope"], m["add"]) for m in preview["missing_scopes"]] == [("write:jira-work", "read:jira-work")]
    # Without JavaScript the "Add read:jira-work" button posts the form back with the scope ticked; nothing is saved.
    added = client.post(create_url(listing), version_post(scopes=["write:jira-work"], add_scope="read:jira-work"))
    assert added.status_code == 200 and not Version.objects.filter(listing=listing).exists()
    page = added.content.decode()
    assert 'value="read:jira-work" id="id_scopes_0" checked' in page
    assert 'value="write:jira-work" id="id_scopes_1" checked' in page
    assert added.context["missing_scopes"] == []
    missing = client.post(create_url(listing), version_post(scopes=["write:jira-work"], update_notes="x", number=""))
    page = missing.content.decode()
    assert 'name="add_scope" value="read:jira-work"' in page and "Add read:jira-work" in page
    # The draft may be saved; the version page says what is missing and submit is refused with the reason.
    client.post(create_url(listing), version_post(scopes=["write:jira-work"]))
    version = Version.objects.get(listing=listing, number="1.0.0")
    detail = client.get(reverse("portal:version-detail", args=[version.pk])).content.decode()
    assert 'id="missing-scopes"' in detail and "requires <code>read:jira-work</code>" in detail
    response = client.post(reverse("portal:version-submit", args=[version.pk]), follow=True)
    assert "write:jira-work requires read:jira-work" in unescape(response.content.decode())
    version.refresh_from_db()
    assert version.state == "draft"


def test_check_number_warns_when_the_build_order_disagrees_with_version_order(client, listing):
    VersionFactory(listing=listing, number="1.2.3", state="published")  # build 1
    url = reverse("portal:version-check-number")
    result = client.get(url, {"listing": listing.key, "number": "1.2.3-stash"}).json()
    assert result["ok"]
    assert "Build numbers: 1.2.3-stash would get build 2, higher than build 1 of 1.2.3" in result["warning"]
    assert client.get(url, {"listing": listing.key, "number": "1.2.4"}).json()["warning"] == ""
    # The server-rendered form says it too (before any JavaScript runs), and the draft can still be saved.
    page = client.post(create_url(listing), version_post(number="1.2.3-stash", update_notes="")).content.decode()
    assert "Build numbers: 1.2.3-stash would get build 2" in page


# --- every error in one pass, the error summary, the prefilled new version (#15 items 2, 3) ---------


def test_create_version_shows_every_wrong_field_in_one_submit_with_a_summary_linking_to_them(client, listing):
    jira = HostProductFactory(key="jira", name="Jira")
    response = client.post(
        create_url(listing),
        version_post(
            number="1.2",
            update_notes="",
            other_scopes="read:jira work!",
            members="not-an-email",
            api_version="two",
            **{f"compat_{jira.pk}": "on", f"compat_{jira.pk}_min": "10", f"compat_{jira.pk}_max": "9"},
        ),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"number", "update_notes", "other_scopes", "members", "api_version", "compatibility"} <= set(errors)
    html = unescape(response.content.decode())
    assert "There are 6 problems: nothing was saved" in html
    for anchor in ["id_number", "id_update_notes", "id_other_scopes", "id_members", "id_api_version"]:
        assert f'href="#{anchor}"' in html
    assert 'href="#field-compatibility"' in html and 'id="field-compatibility"' in html
    for field in ["number", "update_notes", "other_scopes", "members", "api_version", "compatibility"]:
        assert f'id="id_{field}_error"' in html  # each message next to its field too
    assert not Version.objects.exists()


def test_a_taken_number_is_told_together_with_the_other_errors(client, listing):
    VersionFactory(listing=listing, number="1.0.0", state="draft")
    response = client.post(create_url(listing), version_post(update_notes="", members="nope"))
    errors = response.context["form"].errors
    assert "already exists" in errors["number"][0]
    assert "Update notes are required" in errors["update_notes"][0]
    assert "not a valid e-mail address" in errors["members"][0]


def test_edit_shows_every_wrong_field_in_one_submit(client, listing, owner):
    version = services.version_create(listing=listing, actor=owner, number="1.0.0", update_notes="First.")
    response = client.post(
        reverse("portal:version-edit", args=[version.pk]), version_post(number="x", update_notes="", api_version="0")
    )
    assert {"number", "update_notes", "api_version"} <= set(response.context["form"].errors)
    version.refresh_from_db()
    assert version.number == "1.0.0" and version.update_notes == "First."


def test_a_new_version_is_prefilled_from_the_live_version_and_says_so(client, listing):
    ScopeFactory(name="read:jira-work", sensitivity=1)
    jira = HostProductFactory(key="jira", name="Jira")
    VersionFactory(listing=listing, number="1.0.0", state="superseded", scopes=["read:jira-work"])
    live = VersionFactory(
        listing=listing,
        number="1.1.0",
        state="published",
        scopes=["read:jira-work", "write:custom-thing"],
        pricing="paid",
        api_version=3,
        members=["tester@example.com"],
        compatibility=[{"product": "jira", "min": "9.0"}],
    )
    response = client.get(create_url(listing))
    form = response.context["form"]
    assert form.carried_from == live
    assert form.initial["scopes"] == ["read:jira-work"] and form.initial["other_scopes"] == "write:custom-thing"
    assert form.initial["pricing"] == "paid" and form.initial["api_version"] == "3"
    assert form.initial[f"compat_{jira.pk}"] is True and form.initial[f"compat_{jira.pk}_min"] == "9.0"
    assert "number" not in form.initial and "update_notes" not in form.initial
    html = response.content.decode()
    assert 'id="prefill-note"' in html and "Prefilled from the live version" in html
    assert reverse("portal:version-detail", args=[live.pk]) in html


def test_a_listing_with_nothing_live_starts_blank_without_the_prefill_note(client, listing):
    VersionFactory(listing=listing, number="1.0.0", state="draft", scopes=["read:jira-work"])
    response = client.get(create_url(listing))
    assert response.context["form"].carried_from is None
    assert "prefill-note" not in response.content.decode()
