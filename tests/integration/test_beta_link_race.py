"""A double click on a beta link's Install, on PostgreSQL with two real connections: the
site row is locked, so one press installs and the other finds the beta installed."""

from __future__ import annotations

import pytest
from django.db import connection

from core.errors import TransitionNotAllowed
from tests.concurrency import race
from tests.factories import ScopeFactory, SiteAdminFactory, UserFactory
from tests.upgrades.beta_world import make_beta_world
from upgrades import services
from upgrades.models import BetaInstall, Installation, Upgrade
from upgrades.share_links import beta_link_token

pytestmark = pytest.mark.django_db(transaction=True)


def _world():
    ScopeFactory(name="read:jira-work", sensitivity=1)
    ScopeFactory(name="write:jira-work", sensitivity=2)
    bw = make_beta_world()
    second = UserFactory()
    SiteAdminFactory(site=bw.new_site, user=second, email=second.email)
    SiteAdminFactory(site=bw.old_site, user=second, email=second.email)
    return bw, second


@pytest.mark.parametrize("where", ["fresh", "upgrade"])
def test_two_presses_at_once_install_once(where):
    assert connection.vendor == "postgresql"
    bw, second = _world()
    site = bw.new_site if where == "fresh" else bw.old_site
    token = beta_link_token(bw.link())

    results = race(lambda actor: services.beta_install(link_token=token, site=site.pk, actor=actor), [bw.admin, second])

    assert sorted(r[0] for r in results) == ["error", "ok"], results
    error = next(r[1] for r in results if r[0] == "error")
    assert isinstance(error, TransitionNotAllowed) and "already runs" in error.message
    winner = next(r[1] for r in results if r[0] == "ok")
    installation = Installation.objects.get(site=site, listing=bw.listing)
    assert installation.version == bw.beta and winner.installation == installation
    assert BetaInstall.objects.filter(installation=installation).count() == 1
    assert Upgrade.objects.filter(installation=installation).count() == (0 if where == "fresh" else 1)
