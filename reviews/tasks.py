"""Celery tasks of the reviewer workspace (routed to the e-mail queue by their `send_` name).

Retries and time limits: core.tasks.PortalTask. versions.hooks enqueues them after commit.
"""

from __future__ import annotations

from celery import shared_task

from core.tasks import PortalTask
from reviews import emails


@shared_task(base=PortalTask, name="reviews.tasks.send_review_decision_email")
def send_review_decision_email(transition_id: int) -> None:
    """Tell the vendor a version was approved or rejected; a second run sends nothing."""
    emails.review_decision_email_send(transition_id=transition_id)


@shared_task(base=PortalTask, name="reviews.tasks.send_review_question_email")
def send_review_question_email(message_id: int) -> None:
    """Tell the vendor a reviewer asked a question; a second run sends nothing."""
    emails.review_question_email_send(message_id=message_id)
