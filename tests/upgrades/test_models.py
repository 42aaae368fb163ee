"""What the database itself guarantees about upgrades."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from tests.factories import VersionFactory
from upgrades.models import Upgrade, UpgradeRequest

pytestmark = pytest.mark.django_db


def test_database_allows_one_open_request_and_one_scheduled_upgrade_per_installation(world):
    v2 = VersionFactory(listing=world.listing, number="1.1.0", state="superseded")
    installation = world.installations[0]
    UpgradeRequest.objects.create(installation=installation, from_version=world.v1, to_version=v2)
    with pytest.raises(IntegrityError), transaction.atomic():
        UpgradeRequest.objects.create(installation=installation, from_version=world.v1, to_version=v2)
    Upgrade.objects.create(installation=installation, from_version=world.v1, to_version=v2, due_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        Upgrade.objects.create(installation=installation, from_version=world.v1, to_version=v2, due_at=timezone.now())
