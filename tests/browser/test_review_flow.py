"""A reviewer works the queue in real Chromium: start a review, reject with a
comment, start and approve another version."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from reviews.services import reviewers_group_sync
from tests.factories import ListingFactory, MembershipFactory, UserFactory, VersionFactory
from tests.reviews.queue import waiting_version
from versions.models import Version


def test_reviewer_rejects_one_version_and_approves_another(page, mailoutbox):
    reviewer = UserFactory(username="reviewer", is_staff=True, password="reviewer-demo-pass")
    reviewer.groups.add(reviewers_group_sync())
    owner = MembershipFactory(role="owner", user=UserFactory(email="owner@acme.example.com")).user
    vendor = owner.vendor_memberships.get().vendor
    reports = ListingFactory(vendor=vendor, key="acme-reports", name="Acme Reports")
    VersionFactory(listing=reports, number="2.0.0", state="published", scopes=["read:jira-work"])
    to_reject = waiting_version(reports, "2.1.0", scopes=["read:jira-work", "write:jira-work"], age_hours=30)
    to_approve = waiting_version(
        ListingFactory(vendor=vendor, key="acme-timesheets", name="Acme Timesheets"), "1.0.0", age_hours=2
    )

    page.goto("/admin/")
    page.fill("#id_login", "reviewer")  # the admin's sign-in is the portal's (allauth)
    page.fill("#id_password", "reviewer-demo-pass")
    page.click("button[type=submit]")
    page.get_by_role("link", name="Review queue").click()
    expect(page.locator("#review-summary")).to_contain_text("2 versions waiting")
    expect(page.locator("#review-summary")).to_contain_text("the oldest has waited 1 day, 6 hours")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("acme-reports")
    expect(rows.first).to_contain_text("consent needed")

    # Reject 2.1.0 with a comment.
    rows.first.get_by_role("link", name="2.1.0").click()
    expect(page.locator("#review-consent")).to_contain_text("Customers will have to consent")
    page.click("#review-start")
    expect(page.locator(".messagelist")).to_contain_text("You are now reviewing acme-reports@2.1.0.")
    expect(page.locator("#review-state")).to_have_text("In review")
    page.click("#review-reject")
    page.click("#reject-submit")  # empty comments are refused (by the browser, and by the server)
    expect(page).to_have_url(re.compile(r"/reject/$"))
    assert page.locator("#id_comment").evaluate("el => el.validity.valueMissing")
    page.fill("#id_comment", "Explain why the app needs to write worklogs.")
    page.click("#reject-submit")
    expect(page.locator(".messagelist")).to_contain_text("Rejected acme-reports@2.1.0.")
    expect(page).to_have_url(re.compile(r"/admin/reviews/reviewqueueversion/$"))
    expect(rows).to_have_count(1)

    # Approve the other one.
    rows.first.get_by_role("link", name="1.0.0").click()
    page.click("#review-start")
    for box in page.locator("#review-checklist input[type=checkbox]").all():
        box.check()  # the checklist (whatever this database holds of it) is ticked before approving
    page.click("#review-approve")
    expect(page.locator(".messagelist")).to_contain_text("Approved acme-timesheets@1.0.0.")
    expect(page.locator("#review-summary")).to_contain_text("0 versions waiting")

    rejected, approved = Version.objects.get(pk=to_reject.pk), Version.objects.get(pk=to_approve.pk)
    assert (rejected.state, approved.state) == ("rejected", "approved")
    assert rejected.transitions.get(name="reject").comment == "Explain why the app needs to write worklogs."
    assert approved.reviewer == reviewer
    # One message per recipient (each with its own unsubscribe link, issue #16 item 5).
    subjects = sorted({m.subject for m in mailoutbox})
    assert subjects == ["Approved: Acme Timesheets 1.0.0", "Rejected: Acme Reports 2.1.0 needs changes"]
    for subject in subjects:
        assert ["owner@acme.example.com"] in [m.to for m in mailoutbox if m.subject == subject]
