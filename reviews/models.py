"""The review queue (a proxy of versions.Version) and the record of decision e-mails."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from marketplace.schemes import SCHEME_CHOICES
from versions.models import Version

# The longest question, reply or note (a page of text).
MESSAGE_MAX = 5000


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


class ReviewMessage(models.Model):
    """One message of a version's review conversation (one thread per version): the reviewer's
    question or the vendor's reply. Shown to reviewers and to the vendor; private notes are
    ReviewerNote, never here."""

    class Kind(models.TextChoices):
        QUESTION = "question", "Question from the reviewer"
        REPLY = "reply", "Reply from the vendor"

    version = models.ForeignKey("versions.Version", on_delete=models.CASCADE, related_name="review_messages")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    body = models.TextField(max_length=MESSAGE_MAX)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # When the vendor was e-mailed the question (send_email_once marks it; null: not yet, or a reply).
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["question", "reply"]), name="review_message_kind_valid"
            ),
            models.CheckConstraint(condition=~models.Q(body=""), name="review_message_body_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.version_id}"

    @property
    def author_label(self) -> str:
        return self.author.get_username() if self.author else "system"


class ReviewerNote(models.Model):
    """A reviewer's private note on a version or on a vendor: never shown to vendors."""

    version = models.ForeignKey(
        "versions.Version", null=True, blank=True, on_delete=models.CASCADE, related_name="reviewer_notes"
    )
    vendor = models.ForeignKey(
        "marketplace.Vendor", null=True, blank=True, on_delete=models.CASCADE, related_name="reviewer_notes"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    body = models.TextField(max_length=MESSAGE_MAX)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(version__isnull=False, vendor__isnull=True)
                    | models.Q(version__isnull=True, vendor__isnull=False)
                ),
                name="reviewer_note_on_version_or_vendor",
            ),
            models.CheckConstraint(condition=~models.Q(body=""), name="reviewer_note_body_not_empty"),
        ]

    def __str__(self) -> str:
        return f"Note on {'version ' + str(self.version_id) if self.version_id else 'vendor ' + str(self.vendor_id)}"


class ChecklistItem(models.Model):
    """One line of the review checklist, per scheme (blank: every scheme). Leads edit these in the
    admin; the defaults come from a data migration. Every active item must be ticked to approve."""

    scheme = models.CharField(max_length=16, choices=SCHEME_CHOICES, blank=True, help_text="Blank: every scheme")
    text = models.CharField(max_length=255)
    position = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = "checklist item"
        # Leads: assign reviews and see the reviewer metrics (the `Review leads` group has it).
        permissions = [("lead_reviews", "Can assign reviews and see reviewer metrics")]

    def __str__(self) -> str:
        return f"{self.text} ({self.scheme or 'every scheme'})"


class ReviewDecision(models.Model):
    """What the reviewer ticked when deciding: stored with the decision (its audit row)."""

    transition = models.OneToOneField(
        "versions.VersionTransition", on_delete=models.CASCADE, related_name="review_decision"
    )
    # [{"id": 3, "text": "Scopes justified by the update notes"}]: the text as it read then.
    checklist = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return f"Checklist of {self.transition}"
