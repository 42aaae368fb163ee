"""Sites and installations: what may be installed, and maintenance windows."""

from __future__ import annotations

import pytest

from core.errors import ApplicationError
from tests.factories import SiteFactory, VersionFactory
from upgrades import services

pytestmark = pytest.mark.django_db


def test_installation_create_refuses_a_foreign_or_unreleased_version(world):
    other = VersionFactory(number="3.0.0", state="published")
    with pytest.raises(ApplicationError, match="is not a version of"):
        services.installation_create(site=world.sites[0], listing=world.listing, version=other)
    draft = VersionFactory(listing=world.listing, number="3.0.0", state="draft")
    with pytest.raises(ApplicationError, match="only published versions"):
        services.installation_create(site=SiteFactory(), listing=world.listing, version=draft)


def test_site_validates_its_maintenance_windows(world):
    from django.core.exceptions import ValidationError

    site = world.sites[0]
    site.maintenance_windows = [{"weekday": 9, "start": "01:00", "end": "02:00"}]
    with pytest.raises(ValidationError) as exc:
        site.full_clean()
    assert "weekday must be 0 (Monday) to 6 (Sunday)" in str(exc.value.message_dict["maintenance_windows"])
    with pytest.raises(ApplicationError):
        services.site_set_maintenance_windows(site=site, actor=world.admins[0].user, windows_="sunday")
    services.site_set_maintenance_windows(
        site=site, actor=world.admins[0].user, windows_=[{"weekday": 6, "start": "01:00", "end": "05:00"}]
    )
    site.refresh_from_db()
    assert site.maintenance_windows == [{"weekday": 6, "start": "01:00", "end": "05:00"}]
