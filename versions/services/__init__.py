"""Every write on versions, split by subject:

- drafts: create, update and duplicate (the vendor's drafts);
- lifecycle: the state-machine transitions (submit, withdraw, review, release to
  the queue, publish, cancel);
- automatic: versions the portal makes itself (descriptor polls, deploys);
- bundles: app-group shares (bundle scheme);
- releases: re-release (a rollback as a new, higher version) and scheduled publish.

The drafts and lifecycle services are re-exported here (`from versions import services`).
"""

from versions.selectors import last_published
from versions.services.drafts import version_create, version_duplicate, version_update
from versions.services.lifecycle import (
    version_approve,
    version_cancel,
    version_publish,
    version_reject,
    version_release_to_queue,
    version_start_review,
    version_submit,
    version_withdraw,
)
from versions.services.releases import (
    version_rerelease,
    version_schedule_publish,
    version_unschedule_publish,
)

__all__ = [
    "last_published",
    "version_approve",
    "version_cancel",
    "version_create",
    "version_duplicate",
    "version_publish",
    "version_reject",
    "version_release_to_queue",
    "version_rerelease",
    "version_schedule_publish",
    "version_start_review",
    "version_submit",
    "version_unschedule_publish",
    "version_update",
    "version_withdraw",
]
