"""A site admin follows the consent e-mail's link in real Chromium: the page shows
what changes and nothing happens until the Approve button is pressed."""

import re

from django.core import mail

from tests.factories import ScopeFactory
from tests.upgrades.world import make_world
from upgrades.models import Installation, UpgradeRequest

LINK_PATH = re.compile(r"https?://[^/\s]+(/upgrades/consent/\S+/)")


def test_admin_approves_from_the_emailed_link(page, transactional_db):
    ScopeFactory(name="read:jira-work", sensitivity=1)
    ScopeFactory(name="write:jira-work", sensitivity=2)
    world = make_world(sites=1)
    world.publish("1.1.0", scopes=["read:jira-work", "write:jira-work"], pricing="paid")
    installation = Installation.objects.get(pk=world.installations[0].pk)
    [message] = [m for m in mail.outbox if "needs your approval" in m.subject]
    path = LINK_PATH.search(message.body).group(1)

    page.goto(path)
    main = page.locator("main")
    assert "write:jira-work" in main.inner_text() and "free" in main.inner_text()
    assert Installation.objects.get(pk=installation.pk).version.number == "1.0.0"  # looking changed nothing
    page.get_by_role("button", name=re.compile("Approve")).click()
    page.wait_for_load_state()
    assert "Upgrade approved" in page.locator("main").inner_text()
    assert Installation.objects.get(pk=installation.pk).version.number == "1.1.0"
    assert UpgradeRequest.objects.get(installation=installation).state == "approved"

    page.goto(path)  # the link works once
    assert not any("Approve" in b.inner_text() for b in page.get_by_role("button").all())
    assert "approved" in page.locator("main").inner_text().lower()
