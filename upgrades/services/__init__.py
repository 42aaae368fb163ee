"""Every write on sites, installations, rollouts, upgrades and consent.

Rollouts are set-based: a chunk of installations is read with one query, the
consent rules (versions.policies) are applied in memory, and the outcome is
written with a handful of bulk statements whatever the chunk's size (no query
per installation). Tasks (upgrades.tasks) call these functions and are safe to
run twice: what was already done is filtered out by the queries themselves and
guarded by the partial unique constraints (one scheduled upgrade and one open
request per installation).
"""

from upgrades.services.applying import OCP_HOOKS, upgrade_apply, upgrades_apply_due
from upgrades.services.beta import (
    beta_install,
    beta_link_check,
    beta_share_link_create,
    beta_share_link_revoke,
)
from upgrades.services.consent import (
    closed_request_message,
    consent_link_check,
    consent_link_use,
    installation_upgrade,
    upgrade_request_approve,
    upgrade_request_reject,
    upgrade_requests_due_reminder,
    upgrade_requests_expire,
)
from upgrades.services.housekeeping import upgrades_housekeeping
from upgrades.services.migration import migration_offer_accept, migration_offer_keep, site_migrate_product
from upgrades.services.rollouts import (
    rollout_halt,
    rollout_process_chunk,
    rollout_resume,
    rollout_start,
    upgrade_due_for,
)
from upgrades.services.sites import (
    installation_create,
    site_invitation_accept,
    site_invitation_create,
    site_invitation_get_by_link,
    site_invitation_revoke,
    site_invitation_send,
    site_register,
    site_set_maintenance_windows,
    site_token_create,
    site_token_revoke,
    site_update_settings,
)

__all__ = [
    "OCP_HOOKS",
    "beta_install",
    "beta_link_check",
    "beta_share_link_create",
    "beta_share_link_revoke",
    "closed_request_message",
    "consent_link_check",
    "consent_link_use",
    "installation_create",
    "installation_upgrade",
    "migration_offer_accept",
    "migration_offer_keep",
    "rollout_halt",
    "rollout_process_chunk",
    "rollout_resume",
    "rollout_start",
    "site_invitation_accept",
    "site_invitation_create",
    "site_invitation_get_by_link",
    "site_invitation_revoke",
    "site_invitation_send",
    "site_migrate_product",
    "site_register",
    "site_set_maintenance_windows",
    "site_token_create",
    "site_token_revoke",
    "site_update_settings",
    "upgrade_apply",
    "upgrade_due_for",
    "upgrade_request_approve",
    "upgrade_request_reject",
    "upgrade_requests_due_reminder",
    "upgrade_requests_expire",
    "upgrades_apply_due",
    "upgrades_housekeeping",
]
