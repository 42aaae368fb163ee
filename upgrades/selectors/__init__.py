"""Reads of the upgrades app, by subject: sites and tokens, the update check, upgrade requests,
rollouts and adoption, OCP beta links, product migrations."""

from upgrades.selectors.deliveries import (
    DELIVERY_FILTERS,
    delivery_get_for_user,
    delivery_list,
    installation_get_for_site_admin,
    listing_callback_urls,
    webhook_endpoint_get_for_user,
    webhook_endpoint_list,
)
from upgrades.selectors.requests import (
    upgrade_request_changes,
    upgrade_request_for_page,
    upgrade_request_get_for_user,
    upgrade_request_list,
)
from upgrades.selectors.rollouts import (
    SEGMENTS,
    listing_adoption,
    listing_rollout_panel,
    listing_rollouts,
    rollout_get_for_user,
    rollout_list,
    rollout_progress,
    rollouts_with_progress,
)
from upgrades.selectors.sites import (
    installation_list,
    site_apps,
    site_for_token,
    site_get_for_user,
    site_history,
    site_list_for_user,
    site_team,
)
from upgrades.selectors.updates import (
    CANDIDATE_FIELDS,
    installation_update,
    site_update_fingerprint,
    site_updates,
)

__all__ = [
    "CANDIDATE_FIELDS",
    "DELIVERY_FILTERS",
    "SEGMENTS",
    "delivery_get_for_user",
    "delivery_list",
    "installation_get_for_site_admin",
    "installation_list",
    "installation_update",
    "listing_adoption",
    "listing_callback_urls",
    "listing_rollout_panel",
    "listing_rollouts",
    "rollout_get_for_user",
    "rollout_list",
    "rollout_progress",
    "rollouts_with_progress",
    "site_apps",
    "site_for_token",
    "site_get_for_user",
    "site_history",
    "site_list_for_user",
    "site_team",
    "site_update_fingerprint",
    "site_updates",
    "upgrade_request_changes",
    "upgrade_request_for_page",
    "upgrade_request_get_for_user",
    "upgrade_request_list",
    "webhook_endpoint_get_for_user",
    "webhook_endpoint_list",
]
