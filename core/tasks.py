"""The portal's task convention, and its own housekeeping task.

Every task is `@shared_task(base=PortalTask, name=...)`: retries and time
limits are declared here once. A task takes ids, re-fetches, returns quietly
when the work is already done and calls one service; the service enqueues it
after commit (`transaction.on_commit(partial(task.delay, ...))`).
"""

import socket

from celery import Task, shared_task
from django.db import OperationalError

from core.services import heartbeat_record

# Worth another try: the network (SMTP, an upstream portal; ConnectionError, TimeoutError and
# smtplib.SMTPException are OSErrors) and the database's lock timeouts and dropped connections.
# Never domain errors: an ApplicationError would fail the same way again.
TRANSIENT_ERRORS = (OperationalError, OSError)


class PortalTask(Task):
    """Retries transient errors with exponential backoff; a task that hangs is stopped.

    The soft limit raises SoftTimeLimitExceeded inside the task (its transaction
    rolls back); the hard limit kills the worker process a little later.
    """

    autoretry_for = TRANSIENT_ERRORS
    retry_backoff = True
    retry_backoff_max = 600
    max_retries = 5
    soft_time_limit = 240
    time_limit = 280


@shared_task(base=PortalTask, name="core.tasks.record_heartbeat")
def record_heartbeat() -> None:
    heartbeat_record(name="celery-worker", hostname=socket.gethostname())
