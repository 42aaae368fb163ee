"""The review queue (a proxy of versions.Version) and the record of decision e-mails."""

from __future__ import annotations

from django.db import models

from versions.models import Version


class ReviewQueueVersion(Version):
    """A version seen from the reviewers' side: the admin's review queue.

    A proxy, so the queue has its own admin page and its own view permission
    (given to the `Reviewers` group) without a table of its own.
    """

    class Meta:
        proxy = True
        verbose_name = "version awaiting review"
        verbose_name_plural = "review queue"
        # The queue is read-only in the admin; decisions go through the version services.
        default_permissions = ("view",)


class DecisionEmail(models.Model):
    """One e-mail to the vendor per review decision (the approve/reject audit row).

    The one-to-one on the transition is what makes the sending task idempotent: a
    second run (a retry, a duplicate delivery) finds the row and sends nothing.
    """

    class Kind(models.TextChoices):
        APPROVED = "approved", "Version approved"
        REJECTED = "rejected", "Version rejected"

    transition = models.OneToOneField(
        "versions.VersionTransition", on_delete=models.CASCADE, related_name="decision_email"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    recipients = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=255)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["approved", "rejected"]), name="decision_email_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.subject})"
