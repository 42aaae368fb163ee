"""Housekeeping tasks of the portal itself."""

import socket

from celery import shared_task

from core.services import heartbeat_record


@shared_task(name="core.tasks.record_heartbeat", ignore_result=True, time_limit=30)
def record_heartbeat() -> None:
    heartbeat_record(name="celery-worker", hostname=socket.gethostname())
