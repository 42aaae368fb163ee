"""Celery tasks of the catalogue (retries and time limits: core.tasks.PortalTask)."""

from __future__ import annotations

from celery import shared_task

from core.tasks import PortalTask


@shared_task(base=PortalTask, name="marketplace.tasks.send_vendor_invitation")
def send_vendor_invitation(invitation_id: int, link_token: str) -> None:
    from marketplace.services import vendor_invitation_send

    vendor_invitation_send(invitation_id=invitation_id, link_token=link_token)
