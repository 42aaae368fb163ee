"""Celery tasks of the reviewer workspace (routed to the e-mail queue by their `send_` name)."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task

from reviews.services import review_decision_email_send


@shared_task(
    name="reviews.tasks.send_review_decision_email",
    autoretry_for=(SMTPException, ConnectionError, TimeoutError),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=60,
    time_limit=90,
)
def send_review_decision_email(transition_id: int) -> None:
    """Tell the vendor a version was approved or rejected; a second run sends nothing."""
    review_decision_email_send(transition_id=transition_id)
