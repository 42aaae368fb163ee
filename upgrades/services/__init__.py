"""Every write on sites, installations, rollouts, upgrades and consent.

Rollouts are set-based: a chunk of installations is read with one query, the
consent rules (versions.policies) are applied in memory, and the outcome is
written with a handful of bulk statements whatever the chunk's size (no query
per installation). Tasks (upgrades.tasks) call these functions and are safe to
run twice: what was already done is filtered out by the queries themselves and
guarded by the partial unique constraints (one scheduled upgrade and one open
request per installation).
"""

from upgrades.services.applying import upgrade_apply, upgrades_apply_due, upgrades_apply_due_for
from upgrades.services.beta import (
    beta_install,
    beta_link_check,
    beta_share_link_create,
    beta_share_link_revoke,
)
from upgrades.services.callbacks import (
    UPGRADE_HOOKS,
    installation_app_status_set,
    lifecycle_event_enqueue,
    lifecycle_events_enqueue_many,
    listing_set_lifecycle_urls,
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
from upgrades.services.deliveries import deliveries_send_due, delivery_redeliver, delivery_send
from upgrades.services.housekeeping import upgrades_housekeeping
from upgrades.services.installs import (
    installation_accept_price,
    installation_disable,
    installation_enable,
    installation_install,
    installation_uninstall,
    licence_buy,
    licences_expire,
    listing_invitation_redeem,
    storefront_version,
)
from upgrades.services.migration import (
    migration_offer_accept,
    migration_offer_keep,
    site_migrate_product,
    site_migrate_product_check,
)
from upgrades.services.rollouts import (
    rollout_halt,
    rollout_process_chunk,
    rollout_resume,
    rollout_start,
    rollouts_resume_stalled,
    rollouts_start_missing,
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
from upgrades.services.stages import rollout_stage_advance, rollout_stage_check_failures, rollout_stages_tick
from upgrades.services.testing import member_install, member_version_check
from upgrades.services.webhooks import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_send_test,
    webhook_endpoint_update,
    webhook_event_enqueue,
)

__all__ = [
    "UPGRADE_HOOKS",
    "beta_install",
    "beta_link_check",
    "beta_share_link_create",
    "beta_share_link_revoke",
    "closed_request_message",
    "consent_link_check",
    "consent_link_use",
    "deliveries_send_due",
    "delivery_redeliver",
    "delivery_send",
    "installation_accept_price",
    "installation_app_status_set",
    "installation_create",
    "installation_disable",
    "installation_enable",
    "installation_install",
    "installation_uninstall",
    "installation_upgrade",
    "licence_buy",
    "licences_expire",
    "lifecycle_event_enqueue",
    "lifecycle_events_enqueue_many",
    "listing_invitation_redeem",
    "listing_set_lifecycle_urls",
    "member_install",
    "member_version_check",
    "migration_offer_accept",
    "migration_offer_keep",
    "rollout_halt",
    "rollout_process_chunk",
    "rollout_resume",
    "rollout_stage_advance",
    "rollout_stage_check_failures",
    "rollout_stages_tick",
    "rollout_start",
    "rollouts_resume_stalled",
    "rollouts_start_missing",
    "site_invitation_accept",
    "site_invitation_create",
    "site_invitation_get_by_link",
    "site_invitation_revoke",
    "site_invitation_send",
    "site_migrate_product",
    "site_migrate_product_check",
    "site_register",
    "site_set_maintenance_windows",
    "site_token_create",
    "site_token_revoke",
    "site_update_settings",
    "storefront_version",
    "upgrade_apply",
    "upgrade_due_for",
    "upgrade_request_approve",
    "upgrade_request_reject",
    "upgrade_requests_due_reminder",
    "upgrade_requests_expire",
    "upgrades_apply_due",
    "upgrades_apply_due_for",
    "upgrades_housekeeping",
    "webhook_endpoint_create",
    "webhook_endpoint_delete",
    "webhook_endpoint_rotate_secret",
    "webhook_endpoint_send_test",
    "webhook_endpoint_update",
    "webhook_event_enqueue",
]
