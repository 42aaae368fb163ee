"""The reviewer workspace in real Chromium, with the vendor's e-mail on a real SMTP server
(aiosmtpd on 127.0.0.1): reviewer A claims a version and asks a question, the vendor answers
from the portal, A ticks the checklist and approves; reviewer B never could act on A's claim."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from core.emails import vendor_recipients
from core.notifications import REVIEW_DECISIONS
from reviews.models import ChecklistItem, ReviewDecision
from reviews.services import reviewers_group_sync
from tests.browser.login import login
from tests.factories import ListingFactory, MembershipFactory, UserFactory, VersionFactory
from tests.reviews.queue import QUEUE_URL, waiting_version
from versions.models import Version


def _admin_sign_in(page, username: str) -> None:
    page.goto("/admin/")
    page.fill("#id_login", username)
    page.fill("#id_password", "pass")
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.wait_for_load_state("load")


def _text_of(message) -> str:
    return next(
        part.get_payload(decode=True).decode() for part in message.walk() if part.get_content_type() == "text/plain"
    )


def test_claim_ask_answer_check_and_approve(page, chromium_browser, live_server, smtp_server):
    group = reviewers_group_sync()
    alice = UserFactory(username="alice", is_staff=True)
    bob = UserFactory(username="bob", is_staff=True)
    alice.groups.add(group)
    bob.groups.add(group)
    owner = MembershipFactory(role="owner", user=UserFactory(username="owner", email="owner@acme.example.com")).user
    vendor = owner.vendor_memberships.get().vendor
    listing = ListingFactory(vendor=vendor, key="acme-reports", name="Acme Reports", scheme="manual")
    VersionFactory(listing=listing, number="2.0.0", state="published", scopes=["read:jira-work"])
    version = waiting_version(listing, "2.1.0", scopes=["read:jira-work", "write:jira-work"], age_hours=30)
    # Browser tests flush the tables: the checklist is set up here as the data migration seeds it.
    ChecklistItem.objects.all().delete()
    ChecklistItem.objects.create(text="The scopes asked for are justified by the update notes", position=1)
    ChecklistItem.objects.create(text="Apps asking for write scopes link to a privacy policy", position=2)
    ChecklistItem.objects.create(scheme="connect", text="Descriptor fetched from the listed URL", position=3)

    # Reviewer A lands on the review queue, claims 2.1.0 and asks the vendor a question.
    page.set_viewport_size({"width": 1366, "height": 900})
    _admin_sign_in(page, "alice")
    expect(page).to_have_url(re.compile(r"/admin/reviews/reviewqueueversion/$"))
    expect(page.locator("#site-name")).to_contain_text("App Marketplace")
    # The queue fits a 1366 px screen: nothing scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    page.locator("#result_list").get_by_role("link", name="2.1.0").click()
    page.click("#review-start")
    expect(page.locator(".messagelist")).to_contain_text("You are now reviewing acme-reports@2.1.0.")
    expect(page.locator("#review-claim")).to_have_text("alice")
    page.fill("#review-question", "Why does the app need to write worklogs?")
    page.click("#review-ask")
    expect(page.locator(".messagelist")).to_contain_text("Asked the vendor about acme-reports@2.1.0")
    expect(page.locator("#review-state")).to_have_text("Needs information")
    expect(page.locator("#review-thread")).to_contain_text("Why does the app need to write worklogs?")

    # The question reaches the vendor through the SMTP server, with the link to the version.
    [question] = smtp_server.wait_for(1)
    assert question["Subject"] == "Question from the reviewer: Acme Reports 2.1.0"
    assert "owner@acme.example.com" in question["To"]
    body = _text_of(question)
    assert "Why does the app need to write worklogs?" in body
    link = re.search(r"http://\S+/portal/versions/\d+/", body).group(0)
    assert link.endswith(f"/portal/versions/{version.pk}/")

    # Reviewer B sees whose claim it is, gets no buttons, and a bulk claim is refused.
    bob_context = chromium_browser.new_context(base_url=live_server.url)
    bob_page = bob_context.new_page()
    try:
        _admin_sign_in(bob_page, "bob")
        bob_page.goto(f"{QUEUE_URL}{version.pk}/change/")
        expect(bob_page.locator("#review-refusal")).to_contain_text("Claimed by alice")
        for button in ("#review-approve", "#review-ask", "#review-reject", "#review-release", "#review-start"):
            expect(bob_page.locator(button)).to_have_count(0)
        bob_page.goto(QUEUE_URL)
        bob_page.locator(f"#result_list input[value='{version.pk}']").check()
        bob_page.select_option("select[name=action]", "start_review_selected")
        bob_page.click("button[name=index]")
        expect(bob_page.locator(".messagelist")).to_contain_text("claimed by alice")
    finally:
        bob_context.close()
    assert Version.objects.get(pk=version.pk).reviewer == alice

    # The vendor answers from the portal (the e-mail's link).
    vendor_context = chromium_browser.new_context(base_url=live_server.url)
    vendor_page = vendor_context.new_page()
    try:
        login(vendor_page, "owner", "pass", next_url=link.split(live_server.url, 1)[1])
        expect(vendor_page.locator("#review-thread")).to_contain_text("Why does the app need to write worklogs?")
        vendor_page.fill("#review-reply", "It logs the time spent on each report.")
        vendor_page.click("#review-reply-send")
        expect(vendor_page.locator(".messages")).to_contain_text("Your reply is sent")
        expect(vendor_page.locator("#review-thread")).to_contain_text("It logs the time spent on each report.")
        expect(vendor_page.locator("#review-reply")).to_have_count(0)  # no open question any more
    finally:
        vendor_context.close()

    # Reviewer A sees the answer, ticks the checklist (required) and approves.
    page.reload()
    expect(page.locator("#review-state")).to_have_text("In review")
    expect(page.locator("#review-thread")).to_contain_text("It logs the time spent on each report.")
    boxes = page.locator("#review-checklist input[type=checkbox]")
    expect(boxes).to_have_count(2)  # the manual scheme's items, not the connect one
    page.click("#review-approve")  # nothing ticked: the browser refuses (the server would too)
    assert boxes.first.evaluate("el => el.validity.valueMissing")
    for box in boxes.all():
        box.check()
    page.click("#review-approve")
    expect(page.locator(".messagelist")).to_contain_text("Approved acme-reports@2.1.0.")

    approved = Version.objects.get(pk=version.pk)
    assert (approved.state, approved.reviewer) == ("approved", alice)
    decision = ReviewDecision.objects.get(transition__version=approved, transition__name="approve")
    assert [tick["text"] for tick in decision.checklist] == [
        "The scopes asked for are justified by the update notes",
        "Apps asking for write scopes link to a privacy policy",
    ]
    assert [t.name for t in approved.transitions.order_by("id")] == [
        "start_review",
        "request_information",
        "information_provided",
        "approve",
    ]
    # The question goes as one message; the decision goes to each of the vendor's recipients
    # separately (each copy carries its own unsubscribe link).
    recipients = vendor_recipients(approved.listing.vendor, REVIEW_DECISIONS)
    messages = smtp_server.wait_for(1 + len(recipients))
    assert [m["Subject"] for m in messages] == [
        "Question from the reviewer: Acme Reports 2.1.0",
        *["Approved: Acme Reports 2.1.0"] * len(recipients),
    ]
    assert sorted(m["To"] for m in messages[1:]) == recipients
