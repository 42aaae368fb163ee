"""The demo data shows one rollout in stages and one yanked version (issue #16)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from upgrades.models import Installation, Rollout
from upgrades.selectors import site_updates
from versions.models import Version, VersionYank

pytestmark = pytest.mark.django_db


def test_seed_demo_shows_a_rollout_in_stages_and_a_yank():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "Staged rollout demo: Acme Pilot Planner 1.1.0 at stage 2 of 4 (25 %)" in out.getvalue()
    rollout = Rollout.objects.get(version__listing__key="acme-pilot-planner", version__number="1.1.0")
    assert rollout.stages == [5, 25, 50, 100] and rollout.stage_index == 1 and rollout.state == "running"
    running = Installation.objects.filter(listing__key="acme-pilot-planner")
    on_new = running.filter(version__number="1.1.0").count()
    assert 0 < on_new < running.count()  # some pilots have it, the rest wait for their stage
    assert VersionYank.objects.filter(version__listing__key="acme-pilot-planner", version__number="1.0.1").exists()
    waiting = running.exclude(version__number="1.1.0").select_related("site").first()
    [item] = site_updates(site=waiting.site)["items"]
    assert item["update"]["number"] == "1.0.0" and item["update"]["move_off"]["code"] == "version_yanked"
    client = Client()
    client.force_login(
        Version.objects.get(listing__key="acme-pilot-planner", number="1.1.0").listing.vendor.users.get(
            username="vendor"
        )
    )
    html = client.get("/upgrades/listings/acme-pilot-planner/rollouts/").content.decode()
    assert "Stage 2 of 4: 25 % of installations" in html and "Advance to the next stage" in html
    # Idempotent: a second run adds nothing.
    call_command("seed_demo", stdout=StringIO())
    assert Rollout.objects.filter(version__listing__key="acme-pilot-planner").count() == 2
