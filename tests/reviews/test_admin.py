"""The review queue and the version page in the admin, as each kind of user."""

from __future__ import annotations

import re

import pytest

from tests.factories import ListingFactory, MembershipFactory, UserFactory, VendorFactory, VersionFactory
from tests.reviews.queue import QUEUE_URL, all_ticks, version_url, waiting_version
from versions.models import VersionTransition

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def queue_rows(response) -> list[str]:
    return [str(v) for v in response.context["cl"].result_list]


# --- the queue ---------------------------------------------------------------------


def test_queue_lists_waiting_versions_oldest_first_with_summary(client, group_reviewer, vendor_listing, pending):
    older = waiting_version(vendor_listing, "1.0.1", state="in_review", age_hours=50, reviewer=group_reviewer)
    VersionFactory(listing=vendor_listing, number="0.9.0", state="draft")
    VersionFactory(listing=vendor_listing, number="0.8.0", state="approved")
    client.force_login(group_reviewer)
    response = client.get(QUEUE_URL)
    assert response.status_code == 200
    assert queue_rows(response) == [str(older), str(pending)]
    page = text(response)
    assert "2 versions waiting (1 pending approval, 1 in review)" in page
    assert "the oldest has waited 2 days, 2 hours" in page
    for column in ("Listing", "Vendor", "Number", "State", "Waiting", "Claim", "Scopes added"):
        assert column in page
    assert "write:jira-work consent needed" in page
    assert vendor_listing.vendor.name in page


def test_queue_marks_first_release_and_free_to_paid(client, group_reviewer, vendor_listing):
    paid = waiting_version(vendor_listing, "1.0.1", scopes=["read:jira-work"], pricing="paid")
    newcomer = ListingFactory(key="new-app")
    waiting_version(newcomer, "0.1.0", scopes=["read:jira-user"])
    client.force_login(group_reviewer)
    page = text(client.get(QUEUE_URL))
    assert "read:jira-user (first release)" in page
    row = next(r for r in client.get(QUEUE_URL).context["cl"].result_list if r.pk == paid.pk)
    assert row.live.number == "1.0.0" and row.live.pricing == "free"
    assert "none consent needed" in page  # no scope added, but free -> paid


def test_queue_filters_and_search(client, group_reviewer, other_reviewer, vendor_listing, pending):
    mine = waiting_version(vendor_listing, "1.0.1", state="in_review", reviewer=group_reviewer)
    theirs = waiting_version(vendor_listing, "1.0.2", state="in_review", reviewer=other_reviewer)
    other = ListingFactory(key="zeta-tool", name="Zeta Tool", scheme="ocp", vendor=VendorFactory(name="Zeta"))
    beta = waiting_version(other, "2.0.0-beta.1", channel="beta")
    client.force_login(group_reviewer)

    def rows(query: str) -> list[str]:
        response = client.get(f"{QUEUE_URL}?{query}")
        assert response.status_code == 200, query
        return sorted(queue_rows(response))

    assert rows("state=pending_approval") == sorted([str(pending), str(beta)])
    assert rows("state=in_review") == sorted([str(mine), str(theirs)])
    assert rows("listing__scheme__exact=ocp") == [str(beta)]
    assert rows(f"listing__vendor__id__exact={other.vendor_id}") == [str(beta)]
    assert rows("channel=beta") == [str(beta)]
    assert rows("claim=mine") == [str(mine)]
    assert rows("claim=claimed") == [str(theirs)]
    assert rows("claim=unclaimed") == sorted([str(pending), str(beta)])
    assert rows("q=zeta") == [str(beta)]
    assert rows("q=Acme+Timer") == sorted([str(pending), str(mine), str(theirs)])
    assert rows("q=1.0.2") == [str(theirs)]


def test_queue_query_count_does_not_grow_with_rows(
    client, group_reviewer, vendor_listing, django_assert_max_num_queries
):
    client.force_login(group_reviewer)
    waiting_version(vendor_listing, "1.0.1")
    client.get(QUEUE_URL)  # warm the scope catalogue cache
    with django_assert_max_num_queries(16) as few:
        client.get(QUEUE_URL)
    for n in range(2, 12):
        listing = ListingFactory()
        VersionFactory(listing=listing, number="1.0.0", state="published", scopes=["read:jira-work"])
        waiting_version(listing, f"1.0.{n}", scopes=["admin"])
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(QUEUE_URL)
    assert len(response.context["cl"].result_list) == 11


# --- the version page ---------------------------------------------------------------


def test_version_page_shows_diffs_consent_notes_and_history(client, group_reviewer, vendor_listing):
    version = waiting_version(
        vendor_listing, "2.0.0", scopes=["write:jira-work"], pricing="paid", update_notes="New editor." * 3
    )
    VersionTransition.objects.create(version=version, name="create", from_state="", to_state="draft")
    VersionTransition.objects.create(
        version=version, name="submit", from_state="draft", to_state="pending_approval", actor=vendor_listing.member
    )
    client.force_login(group_reviewer)
    response = client.get(version_url(version))
    assert response.status_code == 200
    page = text(response)
    assert "Compared with 1.0.0" in page
    assert "Customers will have to consent to this upgrade: new scope write:jira-work; price: free -&gt; paid" in page
    assert "write:jira-work write yes: customers must consent" in page
    assert "read:jira-work read" in page.split("Scopes removed")[1]
    assert "free → paid" in page
    assert "(33 / 500 characters)" in page
    history = page.split("History (newest first)")[1]
    assert history.index("Pending approval submit") < history.index("Draft create")
    assert vendor_listing.member.username in history


def test_new_channel_is_compared_with_the_listings_live_version_without_consent(client, group_reviewer, vendor_listing):
    beta = waiting_version(vendor_listing, "1.1.0-beta.1", channel="beta", scopes=["read:jira-work", "admin"])
    client.force_login(group_reviewer)
    page = text(client.get(version_url(beta)))
    assert "Nothing is live in channel beta yet, so no installed customer is asked to consent." in page
    assert "Compared with the listing's 1.0.0" in page and "live in channel release" in page
    assert "Customers will have to consent" not in page
    added = page.split("Scopes added")[1].split("Scopes removed")[0]
    assert "admin admin yes" in added and "must consent" not in added  # widens access, but no consent here
    queue = text(client.get(QUEUE_URL))
    assert "admin (vs 1.0.0 in channel release)" in queue
    assert "consent needed" not in queue


def test_version_page_shows_descriptor_diff_for_automatic_versions(client, group_reviewer, catalogue):
    listing = ListingFactory(scheme="connect")
    VersionFactory(
        listing=listing,
        number="1.0.0",
        state="published",
        source="poll",
        descriptor={"key": "a", "apiVersion": 1, "modules": {"x": 1}},
    )
    version = waiting_version(
        listing,
        "1.1.0",
        source="poll",
        pricing="paid",
        descriptor={"key": "a", "apiVersion": 1, "enableLicensing": True},
    )
    client.force_login(group_reviewer)
    page = text(client.get(version_url(version)))
    assert "Descriptor changes" in page
    assert "added enableLicensing true" in page
    assert "removed modules.x 1" in page
    assert "apiVersion" not in page.split("Descriptor changes")[1].split("Update notes")[0]


def test_pending_version_offers_start_and_cancel_only(client, group_reviewer, pending):
    client.force_login(group_reviewer)
    response = client.get(version_url(pending))
    offered = response.context["offered"]
    assert (offered.start_review, offered.approve, offered.reject, offered.cancel) == (True, False, False, True)
    html = response.content.decode()
    assert 'id="review-start"' in html and 'id="review-approve"' not in html and 'id="review-reject"' not in html


def test_in_review_version_offers_approve_reject_cancel(client, group_reviewer, vendor_listing):
    version = waiting_version(vendor_listing, "1.0.1", state="in_review", reviewer=group_reviewer)
    client.force_login(group_reviewer)
    html = client.get(version_url(version)).content.decode()
    assert 'id="review-start"' not in html
    assert 'id="review-approve"' in html and 'id="review-reject"' in html and 'id="review-cancel"' in html


# --- transitions through the buttons -----------------------------------------------


def test_start_review_assigns_the_reviewer_and_writes_history(client, group_reviewer, pending):
    client.force_login(group_reviewer)
    response = client.post(version_url(pending, "start-review"), follow=True)
    pending.refresh_from_db()
    assert pending.state == "in_review" and pending.reviewer == group_reviewer
    assert messages_of(response) == [f"You are now reviewing {pending}."]
    row = pending.transitions.get(name="start_review")
    assert (row.actor, row.from_state, row.to_state) == (group_reviewer, "pending_approval", "in_review")
    assert response.redirect_chain[-1][0] == version_url(pending)


def test_start_review_needs_post(client, group_reviewer, pending):
    client.force_login(group_reviewer)
    assert client.get(version_url(pending, "start-review")).status_code == 405
    pending.refresh_from_db()
    assert pending.state == "pending_approval"


def test_approve_emails_the_vendor(
    client, group_reviewer, vendor_listing, mailoutbox, django_capture_on_commit_callbacks
):
    version = waiting_version(vendor_listing, "1.0.1", state="in_review", reviewer=group_reviewer)
    client.force_login(group_reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            version_url(version, "approve"), {"comment": "Nice work.", "checklist": all_ticks(version)}, follow=True
        )
    version.refresh_from_db()
    assert version.state == "approved"
    assert messages_of(response) == [f"Approved {version}. The vendor is e-mailed and may publish it now."]
    assert response.redirect_chain[-1][0] == QUEUE_URL
    assert version.transitions.get(name="approve").comment == "Nice work."
    recipients = [to for m in mailoutbox for to in m.to]
    assert (
        len(recipients) == len(set(recipients)) == len(mailoutbox)
    )  # one message per recipient (each with its own unsubscribe link), none twice
    assert vendor_listing.member.email.lower() in recipients


def test_approving_a_pending_version_is_refused_with_the_service_message(client, group_reviewer, pending):
    client.force_login(group_reviewer)
    no_form = client.get(version_url(pending, "reject"), follow=True)
    assert messages_of(no_form) == [f"Cannot reject {pending}: it is pending approval."]
    assert no_form.redirect_chain[-1][0] == version_url(pending)
    response = client.post(version_url(pending, "approve"), follow=True)
    assert messages_of(response) == [f"Cannot approve {pending}: it is pending approval."]
    pending.refresh_from_db()
    assert pending.state == "pending_approval"
    assert not pending.transitions.filter(name="approve").exists()


def test_reject_requires_comments(
    client, group_reviewer, vendor_listing, mailoutbox, django_capture_on_commit_callbacks
):
    version = waiting_version(vendor_listing, "1.0.1", state="in_review", reviewer=group_reviewer)
    client.force_login(group_reviewer)
    form_page = client.get(version_url(version, "reject"))
    assert form_page.status_code == 200 and "Comments for the vendor" in text(form_page)
    refused = client.post(version_url(version, "reject"), {"comment": "   "})
    assert refused.status_code == 200
    assert "Comments are required when rejecting: tell the vendor what to fix." in text(refused)
    version.refresh_from_db()
    assert version.state == "in_review"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(version_url(version, "reject"), {"comment": "Explain the new scope."}, follow=True)
    version.refresh_from_db()
    assert version.state == "rejected"
    assert messages_of(response) == [f"Rejected {version}. The vendor is e-mailed your comments."]
    assert version.transitions.get(name="reject").comment == "Explain the new scope."
    assert mailoutbox and all("Explain the new scope." in m.body for m in mailoutbox)
    assert len({m.to[0] for m in mailoutbox}) == len(
        mailoutbox
    )  # one message per recipient (each with its own unsubscribe link), none twice


def test_cancel_from_the_admin(client, group_reviewer, pending):
    client.force_login(group_reviewer)
    response = client.post(version_url(pending, "cancel"), follow=True)
    pending.refresh_from_db()
    assert pending.state == "canceled"
    assert messages_of(response) == [f"Canceled {pending}."]
    assert pending.transitions.get(name="cancel").actor == group_reviewer


# --- bulk actions ---------------------------------------------------------------------


def test_bulk_start_review_reports_each_refusal(client, group_reviewer, vendor_listing, pending):
    taken = waiting_version(vendor_listing, "1.0.1", state="in_review")
    client.force_login(group_reviewer)
    response = client.post(
        QUEUE_URL, {"action": "start_review_selected", "_selected_action": [pending.pk, taken.pk]}, follow=True
    )
    pending.refresh_from_db()
    assert pending.state == "in_review" and pending.reviewer == group_reviewer
    assert sorted(messages_of(response)) == sorted(
        [f"Cannot start the review of {taken}: it is in review.", f"You are now reviewing: {pending}."]
    )


def test_bulk_reject_asks_for_comments_first(
    client, group_reviewer, vendor_listing, mailoutbox, django_capture_on_commit_callbacks
):
    a = waiting_version(vendor_listing, "1.0.1", state="in_review")
    b = waiting_version(vendor_listing, "1.0.2", state="in_review")
    client.force_login(group_reviewer)
    data = {"action": "reject_selected", "_selected_action": [a.pk, b.pk]}
    intermediate = client.post(QUEUE_URL, data)
    assert intermediate.status_code == 200 and "Comments for the vendor" in text(intermediate)
    empty = client.post(QUEUE_URL, {**data, "apply": "1", "comment": ""})
    assert "Comments are required when rejecting" in text(empty)
    a.refresh_from_db()
    assert a.state == "in_review"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(QUEUE_URL, {**data, "apply": "1", "comment": "Missing privacy policy."}, follow=True)
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.state, b.state) == ("rejected", "rejected")
    assert len({m.subject for m in mailoutbox}) == 2  # one decision e-mail per version (to each recipient)


# --- who may do what -----------------------------------------------------------------


def test_reviewer_of_the_vendor_gets_no_buttons_and_the_service_refuses(client, reviewers_group, pending):
    insider = pending.listing.member
    insider.is_staff = True
    insider.save()
    insider.groups.add(reviewers_group)
    client.force_login(insider)
    response = client.get(version_url(pending))
    assert response.status_code == 200
    assert not response.context["offered"].start_review
    assert f"You belong to {pending.listing.vendor}, so you may not review this version." in text(response)
    assert 'id="review-start"' not in response.content.decode()
    refused = client.post(version_url(pending, "start-review"), follow=True)
    assert messages_of(refused) == ["You belong to this version's vendor, so you may not review it."]
    pending.refresh_from_db()
    assert pending.state == "pending_approval" and pending.reviewer is None


def test_reviewer_of_the_vendor_cannot_approve_or_reject(client, reviewers_group, vendor_listing):
    version = waiting_version(vendor_listing, "1.0.1", state="in_review")
    insider = UserFactory(is_staff=True)
    insider.groups.add(reviewers_group)
    MembershipFactory(vendor=vendor_listing.vendor, user=insider)
    client.force_login(insider)
    html = client.get(version_url(version)).content.decode()
    assert 'id="review-approve"' not in html and 'id="review-reject"' not in html
    no_form = client.get(version_url(version, "reject"), follow=True)
    assert messages_of(no_form) == [f"You belong to {vendor_listing.vendor}, so you may not review this version."]
    client.post(version_url(version, "approve"), {"checklist": all_ticks(version)})
    client.post(version_url(version, "reject"), {"comment": "no"})
    version.refresh_from_db()
    assert version.state == "in_review"
    assert not version.transitions.exists()


def test_staff_without_the_group_cannot_see_or_act(client, staff_without_group, pending):
    client.force_login(staff_without_group)
    assert client.get(QUEUE_URL).status_code == 403
    assert client.get(version_url(pending)).status_code == 403
    assert client.post(version_url(pending, "start-review")).status_code == 403
    assert client.post(version_url(pending, "cancel")).status_code == 403
    pending.refresh_from_db()
    assert pending.state == "pending_approval"


def test_staff_with_only_view_permission_cannot_act(client, staff_without_group, pending):
    from django.contrib.auth.models import Permission

    staff_without_group.user_permissions.add(Permission.objects.get(codename="view_reviewqueueversion"))
    client.force_login(staff_without_group)
    response = client.get(version_url(pending))
    assert response.status_code == 200
    assert not response.context["offered"].any
    assert "Only marketplace reviewers" in text(response)
    assert client.post(version_url(pending, "start-review")).status_code == 403
    queue = client.get(QUEUE_URL)
    assert "start_review_selected" not in queue.content.decode()
    pending.refresh_from_db()
    assert pending.state == "pending_approval"


def test_vendor_is_sent_to_the_admin_login(client, pending):
    client.force_login(pending.listing.member)
    response = client.get(QUEUE_URL)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    response = client.post(version_url(pending, "start-review"))
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    pending.refresh_from_db()
    assert pending.state == "pending_approval"


def test_all_versions_list_links_waiting_versions_to_the_review_queue(client, group_reviewer, vendor_listing, pending):
    client.force_login(group_reviewer)
    response = client.get("/admin/versions/version/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="{version_url(pending)}">open in the review queue</a>' in html
    assert html.count("open in the review queue") == 1  # the published 1.0.0 has no link


# --- release to queue; staff publish (issue 10, item 4) ---------------------------------


def test_release_to_queue_from_the_version_page(client, group_reviewer, vendor_listing):
    version = waiting_version(vendor_listing, "1.0.1", state="in_review", reviewer=group_reviewer)
    client.force_login(group_reviewer)
    assert 'id="review-release"' in client.get(version_url(version)).content.decode()
    assert client.get(version_url(version, "release")).status_code == 405
    response = client.post(version_url(version, "release"), {"comment": "on leave"}, follow=True)
    version.refresh_from_db()
    assert (version.state, version.reviewer) == ("pending_approval", None)
    assert messages_of(response) == [f"Released {version} to the queue: any reviewer may pick it up."]
    row = version.transitions.get(name="release_to_queue")
    assert (row.actor, row.from_state, row.to_state, row.comment) == (
        group_reviewer,
        "in_review",
        "pending_approval",
        "on leave",
    )


def test_release_to_queue_is_refused_for_a_pending_version(client, group_reviewer, pending):
    client.force_login(group_reviewer)
    assert 'id="review-release"' not in client.get(version_url(pending)).content.decode()
    response = client.post(QUEUE_URL, {"action": "release_selected", "_selected_action": [pending.pk]}, follow=True)
    assert messages_of(response) == [f"Cannot release to the queue {pending}: it is pending approval."]
    pending.refresh_from_db()
    assert pending.state == "pending_approval" and not pending.transitions.exists()


def test_staff_publish_an_approved_version_from_the_admin(
    client, staff_without_group, vendor_listing, django_capture_on_commit_callbacks
):
    from core.models import AuditEvent

    approved = VersionFactory(listing=vendor_listing, number="2.0.0", state="approved")
    draft = VersionFactory(listing=vendor_listing, number="2.1.0", state="draft")
    staff_without_group.user_permissions.add(*_perms("view_version"))
    client.force_login(staff_without_group)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            "/admin/versions/version/",
            {"action": "publish_selected", "_selected_action": [approved.pk, draft.pk]},
            follow=True,
        )
    approved.refresh_from_db()
    draft.refresh_from_db()
    assert (approved.state, draft.state) == ("published", "draft")
    assert sorted(messages_of(response)) == sorted(
        [
            f"Cannot publish {draft}: it is draft (only approved versions can be published).",
            f"Published {approved}: the rollouts to customer sites start.",
        ]
    )
    assert approved.transitions.get(name="publish").actor == staff_without_group
    assert AuditEvent.objects.filter(action="version.publish", object_id=approved.pk).count() == 1
    assert callbacks  # the rollout is enqueued after commit


def test_a_vendor_cannot_publish_through_the_admin(client, vendor_listing):
    approved = VersionFactory(listing=vendor_listing, number="2.0.0", state="approved")
    vendor = MembershipFactory(vendor=vendor_listing.vendor).user
    client.force_login(vendor)
    response = client.post(
        "/admin/versions/version/", {"action": "publish_selected", "_selected_action": [approved.pk]}
    )
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    approved.refresh_from_db()
    assert approved.state == "approved"


def _perms(*codenames):
    from django.contrib.auth.models import Permission

    return list(Permission.objects.filter(content_type__app_label="versions", codename__in=codenames))
