"""Every write on versions, split by subject:

- lifecycle: create, update, duplicate and the state-machine transitions;
- automatic: versions the portal makes itself (descriptor polls, deploys);
- bundles: app-group shares (bundle scheme).

The lifecycle services are re-exported here (`from versions import services`).
"""

from versions.services.lifecycle import (
    after_version_published,
    check_manual_bump_against_live,
    last_published,
    version_approve,
    version_cancel,
    version_create,
    version_duplicate,
    version_publish,
    version_reject,
    version_start_review,
    version_submit,
    version_update,
)

__all__ = [
    "after_version_published",
    "check_manual_bump_against_live",
    "last_published",
    "version_approve",
    "version_cancel",
    "version_create",
    "version_duplicate",
    "version_publish",
    "version_reject",
    "version_start_review",
    "version_submit",
    "version_update",
]
