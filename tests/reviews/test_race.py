"""Two reviewers act on the same version at the same moment (PostgreSQL, two real
connections): one wins, the other is told clearly, and nothing breaks.

To be sure both requests really overlap, the test holds the version's row lock
from a third connection until PostgreSQL reports both of them waiting for it.
"""

from __future__ import annotations

import re
import threading
import time

import pytest
from django.db import connection, transaction
from django.test import Client

from core.errors import ApplicationError
from reviews.services import reviewers_group_sync
from tests.factories import ListingFactory, UserFactory
from tests.reviews.queue import version_url, waiting_version
from versions import services as lifecycle
from versions.models import Version

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def two_reviewers():
    if connection.vendor != "postgresql":
        pytest.fail("the race test needs PostgreSQL: run it through `make test` (DATABASE_URL=postgres://...)")
    group = reviewers_group_sync()
    users = [UserFactory(username=name, is_staff=True) for name in ("alice", "bob")]
    for user in users:
        user.groups.add(group)
    return users


def _waiting_for_locks(count: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            # Statistics views are snapshotted per transaction: ask for a fresh look.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0] >= count:
                return
        time.sleep(0.05)
    pytest.fail(f"{count} transactions never waited on the row lock")


def _race(version: Version, *acts) -> list:
    """Run each act in its own thread (own connection) while the row is locked, then release it."""
    results: list = [None] * len(acts)

    def run(i: int, act) -> None:
        try:
            results[i] = act()
        except Exception as exc:
            results[i] = exc
        finally:
            from django.db import connection as thread_connection

            thread_connection.close()

    threads = [threading.Thread(target=run, args=(i, act)) for i, act in enumerate(acts)]
    with transaction.atomic():
        Version.objects.select_for_update().get(pk=version.pk)
        for thread in threads:
            thread.start()
        _waiting_for_locks(len(acts))
    for thread in threads:
        thread.join(timeout=30)
        assert not thread.is_alive()
    return results


def _messages(html: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", m).strip() for m in re.findall(r'<li class="(?:success|error)">(.*?)</li>', html, re.S)
    ]


def test_two_reviewers_start_the_same_review_in_the_admin(two_reviewers):
    alice, bob = two_reviewers
    version = waiting_version(ListingFactory(key="race-app"), "1.0.0")
    clients = []
    for user in two_reviewers:
        client = Client()
        client.force_login(user)
        clients.append(client)

    def press_start(client: Client):
        return lambda: client.post(version_url(version, "start-review"), follow=True)

    responses = _race(version, *(press_start(c) for c in clients))
    for response in responses:
        assert not isinstance(response, Exception), response
        assert response.status_code == 200
    version.refresh_from_db()
    assert version.state == "in_review"
    winner = version.reviewer
    assert winner in (alice, bob)
    messages = sorted(m for r in responses for m in _messages(r.content.decode()))
    assert messages == sorted(
        [
            f"You are now reviewing {version}.",
            f"Cannot claim {version}: it is claimed by {winner.username}. "
            "Only the reviewer holding the claim may act on it; a review lead can reassign it.",
        ]
    )
    assert version.transitions.filter(name="start_review").count() == 1


def test_approve_and_reject_at_once_one_decision_wins(two_reviewers, mailoutbox):
    alice, bob = two_reviewers
    version = waiting_version(ListingFactory(key="race-decide"), "1.0.0", state="in_review", reviewer=alice)
    results = _race(
        version,
        lambda: lifecycle.version_approve(version=Version.objects.get(pk=version.pk), actor=alice),
        lambda: lifecycle.version_reject(version=Version.objects.get(pk=version.pk), actor=bob, comment="No."),
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], ApplicationError), results
    version.refresh_from_db()
    assert version.state in ("approved", "rejected")
    assert (
        errors[0].message
        == f"Cannot {'reject' if version.state == 'approved' else 'approve'} {version}: it is {version.state}."
    )
    assert version.transitions.filter(name__in=["approve", "reject"]).count() == 1
    # The winner's e-mail went out after its commit (eager tasks in this process), exactly once.
    assert len(mailoutbox) == 1
