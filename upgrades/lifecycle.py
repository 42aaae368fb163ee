"""Where and what the portal calls on a vendor's app (pure rules: no database).

Connect apps name their lifecycle endpoints in their descriptor (baseUrl +
lifecycle.installed|uninstalled|enabled|disabled of the installed version);
other schemes set them on the listing page (Listing.lifecycle_urls), and OCP
apps their upgrade hooks onUpgrade and onFinalizeUpgrade there too.
"""

from __future__ import annotations

from typing import Any

from versions.descriptors import CONNECT_LIFECYCLE_EVENTS, connect_lifecycle_url
from versions.schemes import CONNECT, OCP

LIFECYCLE_EVENTS = CONNECT_LIFECYCLE_EVENTS  # installed, uninstalled, enabled, disabled
UPGRADE_HOOKS = ("onUpgrade", "onFinalizeUpgrade")
CALLBACK_NAMES = LIFECYCLE_EVENTS + UPGRADE_HOOKS
CALLBACK_HELP = {
    "installed": "After the app is installed on a site; carries the installation's shared secret.",
    "uninstalled": "After the app is uninstalled from a site.",
    "enabled": "After the app is switched on again (e.g. after a product migration).",
    "disabled": "After the app is switched off (e.g. its site moved to another product).",
    "onUpgrade": "Before an installation moves to a new version; if it fails for good, the upgrade fails.",
    "onFinalizeUpgrade": "After an installation moved to a new version.",
}


def callback_names_for(scheme: str) -> tuple[str, ...]:
    return CALLBACK_NAMES if scheme == OCP else LIFECYCLE_EVENTS


def lifecycle_url(*, listing: Any, version: Any, event: str) -> str:
    """Where to call the app for `event`, or "" (nowhere)."""
    if listing.scheme == CONNECT:
        if event not in LIFECYCLE_EVENTS or version is None:
            return ""
        return connect_lifecycle_url(version.descriptor, event)
    if event in UPGRADE_HOOKS and listing.scheme != OCP:
        return ""
    url = (listing.lifecycle_urls or {}).get(event, "")
    return url if isinstance(url, str) else ""
