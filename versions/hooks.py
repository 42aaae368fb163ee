"""The one place where versions calls up into the apps above it (STYLE.md, "Floors").

`versions` sits below `reviews` and `upgrades` and imports neither, except
here. Two events of a version's life start work up there:

- a version was published: its rollout to customer sites starts (upgrades);
- a reviewer approved or rejected a version: the vendor is e-mailed (reviews);
- a version was yanked: its rollout halts and its open upgrades and requests close (upgrades).

Either also fires the vendor's webhooks (version.published, version.approved,
version.rejected) through upgrades' webhook task.

The lifecycle services call these functions inside their transaction; each
enqueues its task object after commit, so nothing runs for a transaction that
rolls back. Plain calls, not signals: this is business flow, and a reader of
`versions.services.lifecycle` should find where it goes next.

The tasks are imported inside the functions: their apps import versions, so a
module-level import here would be an import cycle.
"""

from __future__ import annotations

from functools import partial

from django.db import transaction


def version_published(*, version_id: int) -> None:
    """Start the rollout of a version that was just published, once the publishing commits."""
    from upgrades.tasks import rollout_start_task, webhook_version_event

    transaction.on_commit(partial(rollout_start_task.delay, version_id))
    transaction.on_commit(partial(webhook_version_event.delay, version_id, "version.published"), robust=True)


def review_decided(*, transition_id: int) -> None:
    """E-mail the vendor about a review decision (its audit row) once it commits.

    robust: a broker hiccup must not turn a committed decision into an error page.
    """
    from reviews.tasks import send_review_decision_email
    from upgrades.tasks import webhook_version_event
    from versions.models import VersionTransition

    transaction.on_commit(partial(send_review_decision_email.delay, transition_id), robust=True)
    decided = VersionTransition.objects.filter(pk=transition_id).values_list("version_id", "to_state").first()
    if decided and decided[1] in ("approved", "rejected"):
        event = f"version.{decided[1]}"
        transaction.on_commit(partial(webhook_version_event.delay, decided[0], event), robust=True)


def version_yanked(*, version_id: int) -> None:
    """Halt the yanked version's rollout and close the work still open towards it, once the yank commits."""
    from upgrades.tasks import version_yanked_followup

    transaction.on_commit(partial(version_yanked_followup.delay, version_id), robust=True)
