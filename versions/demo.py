"""Demo data for automatic versions: a connect listing that polls the portal itself.

`seed(stdout)` (called at the end of `manage.py seed_demo`) creates the listing
`demo-connect-app` whose descriptor URL is
PORTAL_BASE_URL/demo/descriptors/demo-connect-app.json. In development (DEBUG on
and DESCRIPTOR_ALLOW_LOOPBACK=on, both needed because the portal fetches from
127.0.0.1) that URL serves var/demo/descriptors/demo-connect-app.json. Edit the
file (add a scope, change apiVersion, ...) and press "Poll now" on
/portal/listings/demo-connect-app/polls/: the new version appears; a change of
whitespace only makes none. Idempotent: running it again changes nothing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from django.conf import settings

DEMO_KEY = "demo-connect-app"
DEMO_DESCRIPTOR = {
    "key": DEMO_KEY,
    "name": "Demo Connect App",
    "description": "Polled from the portal itself: edit this file, then press Poll now.",
    "baseUrl": "{{localBaseUrl}}",
    "vendor": {"name": "Demo Vendor", "url": "https://example.com"},
    "authentication": {"type": "jwt"},
    "apiVersion": 1,
    "enableLicensing": False,
    "scopes": ["READ"],
    "lifecycle": {"installed": "/installed"},
    "modules": {"generalPages": [{"key": "hello", "name": {"value": "Hello"}, "url": "/hello"}]},
}


def demo_descriptor_dir() -> Path:
    return Path(settings.VAR_DIR) / "demo" / "descriptors"


def demo_descriptor_path(key: str) -> Path | None:
    if not re.fullmatch(r"[a-z][a-z0-9-]{1,62}", key or ""):
        return None
    return demo_descriptor_dir() / f"{key}.json"


def seed(stdout: Any) -> None:
    from django.contrib.auth import get_user_model

    from marketplace.models import Listing, Vendor, VendorMembership
    from versions.models import Version
    from versions.services.automatic import descriptor_ingest

    path = demo_descriptor_path(DEMO_KEY)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(json.dumps(DEMO_DESCRIPTOR, indent=2) + "\n")
    listing = Listing.objects.filter(key=DEMO_KEY).first()
    if listing is None:
        user = get_user_model().objects.filter(username="vendor").first()
        membership = VendorMembership.objects.filter(user=user).select_related("vendor").first() if user else None
        vendor = membership.vendor if membership else None
        if vendor is None:
            vendor, _ = Vendor.objects.get_or_create(
                slug="demo-vendor", defaults={"name": "Demo Vendor", "contact_email": "vendor@example.com"}
            )
        listing = Listing.objects.create(
            key=DEMO_KEY,
            name="Demo Connect App",
            summary="A connect app whose descriptor the portal polls from itself.",
            vendor=vendor,
            scheme="connect",
            pricing="free",
            descriptor_url=f"{settings.PORTAL_BASE_URL}/demo/descriptors/{DEMO_KEY}.json",
        )
    demo_url = f"{settings.PORTAL_BASE_URL}/demo/descriptors/{DEMO_KEY}.json"
    if listing.descriptor_url != demo_url:  # the portal now runs on another host or port
        Listing.objects.filter(pk=listing.pk).update(descriptor_url=demo_url)
    if not Version.objects.filter(listing=listing).exists():
        descriptor_ingest(listing=listing, raw=json.dumps(DEMO_DESCRIPTOR), source="poll")
    stdout.write(
        f"Demo connect listing {DEMO_KEY}: edit {path} and press 'Poll now' on "
        f"{settings.PORTAL_BASE_URL}/portal/listings/{DEMO_KEY}/polls/ "
        "(needs DESCRIPTOR_ALLOW_LOOPBACK=on)."
    )
