"""The one place where versions calls up into the apps above it (STYLE.md, "Floors").

`versions` sits below `reviews` and `upgrades` and imports neither, except
here. Two events of a version's life start work up there:

- a version was published: its rollout to customer sites starts (upgrades);
- a reviewer approved or rejected a version: the vendor is e-mailed (reviews).

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
    from upgrades.tasks import rollout_start_task

    transaction.on_commit(partial(rollout_start_task.delay, version_id))


def review_decided(*, transition_id: int) -> None:
    """E-mail the vendor about a review decision (its audit row) once it commits.

    robust: a broker hiccup must not turn a committed decision into an error page.
    """
    from reviews.tasks import send_review_decision_email

    transaction.on_commit(partial(send_review_decision_email.delay, transition_id), robust=True)
