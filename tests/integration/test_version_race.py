"""Two concurrent transitions of one version on PostgreSQL with two real
connections: exactly one wins, the other gets a clear error."""

import threading
import time

import pytest
from django.db import connection, transaction

from core.errors import TransitionNotAllowed
from tests.factories import ListingFactory, MembershipFactory, ReviewerFactory, VersionFactory
from versions import services
from versions.models import VersionTransition


def _in_thread(fn, results, key):
    def run():
        try:
            results[key] = ("ok", fn(), time.monotonic())
        except Exception as exc:
            results[key] = ("error", exc, time.monotonic())
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_second_reviewer_waits_for_the_lock_and_is_refused():
    assert connection.vendor == "postgresql"
    version = VersionFactory(state="pending_approval")
    first, second = ReviewerFactory(), ReviewerFactory()
    results: dict = {}
    first_locked = threading.Event()
    committed_at = {}

    def slow_first():
        with transaction.atomic():
            v = services.version_start_review(version=version.pk, actor=first)
            first_locked.set()
            time.sleep(1.0)  # hold the row lock while the other reviewer tries
        committed_at["t"] = time.monotonic()
        return v

    t1 = _in_thread(slow_first, results, "first")
    assert first_locked.wait(10)
    t2 = _in_thread(lambda: services.version_start_review(version=version.pk, actor=second), results, "second")
    t1.join(20)
    t2.join(20)

    assert results["first"][0] == "ok"
    status, error, finished_at = results["second"]
    assert status == "error" and isinstance(error, TransitionNotAllowed)
    assert "it is in review" in error.message
    assert finished_at >= committed_at["t"]  # it waited for the first transaction instead of reading a stale state
    rows = VersionTransition.objects.filter(version_id=version.pk, name="start_review")
    assert rows.count() == 1 and rows.get().actor == first


@pytest.mark.django_db(transaction=True)
def test_concurrent_publish_of_two_versions_leaves_one_live_version():
    owner = MembershipFactory(role="owner")
    listing = ListingFactory(vendor=owner.vendor)
    a = VersionFactory(listing=listing, number="1.1.0", state="approved")
    b = VersionFactory(listing=listing, number="1.2.0", state="approved")
    results: dict = {}
    barrier = threading.Barrier(2)

    def publish(v):
        def run():
            barrier.wait(5)
            return services.version_publish(version=v.pk, actor=owner.user)

        return run

    threads = [_in_thread(publish(a), results, "a"), _in_thread(publish(b), results, "b")]
    for t in threads:
        t.join(20)
    states = dict(listing.versions.values_list("number", "state"))
    assert list(states.values()).count("published") == 1
    # Whichever ran second either superseded the first (1.2.0 after 1.1.0) or was refused (1.1.0 after 1.2.0).
    assert states["1.2.0"] == "published"
    if results["a"][0] == "error":
        assert "greater than every published version" in results["a"][1].message
    else:
        assert states["1.1.0"] == "superseded"
