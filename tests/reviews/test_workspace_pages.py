"""The workspace's pages and API: the admin buttons (ask, note, assign, approve with the checklist,
metrics), the vendor's reply page and API, the metrics API. Refusals change nothing."""

from __future__ import annotations

import pytest

from reviews.models import ReviewerNote, ReviewMessage
from reviews.services import review_ask
from tests.factories import MembershipFactory, UserFactory
from tests.reviews.queue import QUEUE_URL, all_ticks, version_url
from versions.models import Version

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_version_page_shows_the_workspace(client, claimed, group_reviewer):
    client.force_login(group_reviewer)
    page = client.get(version_url(claimed)).content.decode()
    for part in ('id="review-ask"', 'id="review-checklist"', 'id="review-note-form"', 'id="review-vendor-history"'):
        assert part in page
    assert "Manifest, side by side" in page and 'class="diff"' in page
    assert "write:jira-work" in page.split("Manifest, side by side")[1]
    assert "sort_key" not in page and "[&quot;read:jira-work&quot;" not in page  # no raw JSON


def test_ask_from_the_admin_and_an_empty_question(client, claimed, group_reviewer, mailoutbox):
    client.force_login(group_reviewer)
    empty = client.post(version_url(claimed, "ask"), {"body": " "}, follow=True)
    assert messages_of(empty) == ["Write your question: it cannot be empty."]
    assert Version.objects.get(pk=claimed.pk).state == "in_review"
    response = client.post(version_url(claimed, "ask"), {"body": "Why write?"}, follow=True)
    assert Version.objects.get(pk=claimed.pk).state == "needs_information"
    assert "Why write?" in response.content.decode()


def test_approve_without_the_checklist_is_refused_with_the_missing_items(client, claimed, group_reviewer):
    client.force_login(group_reviewer)
    response = client.post(version_url(claimed, "approve"), {"checklist": all_ticks(claimed)[:1]}, follow=True)
    [message] = messages_of(response)
    assert message.startswith("Tick every checklist item before approving; not ticked:")
    assert Version.objects.get(pk=claimed.pk).state == "in_review"


def test_another_reviewer_cannot_act_on_the_claim_from_the_admin(client, claimed, other_reviewer):
    client.force_login(other_reviewer)
    page = client.get(version_url(claimed)).content.decode()
    assert f"Claimed by {claimed.reviewer.username}" in page and 'id="review-approve"' not in page
    for action, data in [("approve", {"checklist": all_ticks(claimed)}), ("ask", {"body": "?"}), ("release", {})]:
        response = client.post(version_url(claimed, action), data, follow=True)
        assert any("claimed by" in m for m in messages_of(response)), action
    assert Version.objects.get(pk=claimed.pk).state == "in_review"


def test_private_notes_stay_in_the_admin(client, claimed, group_reviewer, vendor_listing):
    client.force_login(group_reviewer)
    client.post(version_url(claimed, "note"), {"body": "Secret reviewer remark", "about": "vendor"})
    assert ReviewerNote.objects.get().vendor_id == claimed.listing.vendor_id
    client.force_login(vendor_listing.member)
    portal = client.get(f"/portal/versions/{claimed.pk}/").content.decode()
    api = client.get(f"/api/v1/versions/{claimed.pk}/messages").content.decode()
    assert "Secret reviewer remark" not in portal and "Secret reviewer remark" not in api


def test_a_lead_assigns_from_the_admin_and_a_reviewer_may_not(client, pending, lead, group_reviewer, other_reviewer):
    client.force_login(group_reviewer)
    refused = client.post(version_url(pending, "assign"), {"reviewer": other_reviewer.pk})
    assert refused.status_code == 403
    client.force_login(lead)
    page = client.get(version_url(pending)).content.decode()
    assert 'id="review-assign"' in page
    client.post(version_url(pending, "assign"), {"reviewer": other_reviewer.pk})
    assert Version.objects.get(pk=pending.pk).reviewer == other_reviewer


def test_metrics_page_and_api_are_for_leads(client, claimed, lead, group_reviewer):
    from reviews.services import review_approve

    review_approve(version=claimed, actor=group_reviewer, ticked=all_ticks(claimed))
    client.force_login(group_reviewer)
    assert client.get(f"{QUEUE_URL}metrics/").status_code == 403
    assert client.get("/api/v1/reviews/metrics").status_code == 403
    client.force_login(lead)
    page = client.get(f"{QUEUE_URL}metrics/").content.decode()
    assert group_reviewer.username in page and "Reviews per reviewer per week" in page
    data = client.get("/api/v1/reviews/metrics?weeks=4").json()
    assert data["decisions"] == 1 and data["per_reviewer_week"][0]["reviewer"] == group_reviewer.username
    bad = client.get("/api/v1/reviews/metrics?weeks=0")
    assert bad.status_code == 400 and "weeks" in bad.content.decode()


def test_reviewers_land_on_the_queue_and_the_admin_is_branded(client, group_reviewer):
    client.force_login(group_reviewer)
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"] == QUEUE_URL
    queue = client.get(QUEUE_URL).content.decode()
    assert "App Marketplace · Review" in queue
    assert "approve_selected" not in queue  # no one-click bulk approve


def test_the_vendor_replies_from_the_portal(client, claimed, group_reviewer, vendor_listing):
    review_ask(version=claimed, actor=group_reviewer, body="Why write access?")
    client.force_login(vendor_listing.member)
    page = client.get(f"/portal/versions/{claimed.pk}/").content.decode()
    assert "Why write access?" in page and 'id="review-reply"' in page
    empty = client.post(f"/portal/versions/{claimed.pk}/reply/", {"body": ""}, follow=True)
    assert "Reply: Write your reply: it cannot be empty." in empty.content.decode()
    assert Version.objects.get(pk=claimed.pk).state == "needs_information"
    client.post(f"/portal/versions/{claimed.pk}/reply/", {"body": "To log work."})
    assert Version.objects.get(pk=claimed.pk).state == "in_review"
    assert ReviewMessage.objects.filter(kind="reply", body="To log work.").exists()


def test_the_vendor_replies_through_the_api_and_others_get_404(client, claimed, group_reviewer, vendor_listing):
    review_ask(version=claimed, actor=group_reviewer, body="Why write access?")
    stranger = MembershipFactory(role="owner").user
    client.force_login(stranger)
    assert client.post(f"/api/v1/versions/{claimed.pk}/messages", {"body": "hi"}).status_code == 404
    assert client.post(f"/portal/versions/{claimed.pk}/reply/", {"body": "hi"}).status_code == 404
    client.force_login(vendor_listing.member)
    empty = client.post(f"/api/v1/versions/{claimed.pk}/messages", {"body": "  "})
    assert empty.status_code == 400 and "body" in empty.json().get("errors", empty.json())
    response = client.post(f"/api/v1/versions/{claimed.pk}/messages", {"body": "To log work."})
    assert response.status_code == 201 and response.json()["kind"] == "reply"
    thread = client.get(f"/api/v1/versions/{claimed.pk}/messages").json()
    assert [m["kind"] for m in thread] == ["question", "reply"]
    again = client.post(f"/api/v1/versions/{claimed.pk}/messages", {"body": "More."})
    assert again.status_code == 409
    assert Version.objects.get(pk=claimed.pk).state == "in_review"


def test_a_reviewer_of_the_vendor_sees_no_private_notes(client, claimed, group_reviewer, reviewers_group):
    from reviews.services import reviewer_note_add

    reviewer_note_add(actor=group_reviewer, version=claimed, body="Private remark")
    insider = UserFactory(is_staff=True)
    insider.groups.add(reviewers_group)
    MembershipFactory(vendor=claimed.listing.vendor, user=insider)
    client.force_login(insider)
    page = client.get(version_url(claimed)).content.decode()
    assert "Private remark" not in page and 'id="review-note-form"' not in page
