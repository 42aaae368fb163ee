"""Automatic versions: descriptor polls (connect) and deploys (forge).

Registered in the `versions` app through versions/models/__init__.py.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class DescriptorPollState(models.Model):
    """Per-listing polling state: what the next conditional GET sends, and the failure streak.

    ETag and Last-Modified are stored only after a poll whose descriptor was
    processed (version created or unchanged), so a failed poll is never skipped
    by a later 304.
    """

    listing = models.OneToOneField("marketplace.Listing", on_delete=models.CASCADE, related_name="poll_state")
    etag = models.CharField(max_length=255, blank=True)
    last_modified = models.CharField(max_length=64, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # When beat next enqueues a poll (empty: at once). Set after every poll, and pushed a little
    # ahead when a poll is enqueued, so the next tick does not enqueue it twice.
    next_poll_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    failure_streak = models.PositiveIntegerField(default=0)
    # Set when the vendor was e-mailed about the current failure streak (one e-mail per streak).
    streak_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "descriptor poll state"

    def __str__(self) -> str:
        return f"poll state of {self.listing}"


class DescriptorPoll(models.Model):
    """One poll of a listing's descriptor URL: when, what came back, what it led to."""

    class Outcome(models.TextChoices):
        VERSION_CREATED = "version_created", "New version"
        UNCHANGED = "unchanged", "Unchanged"
        NOT_MODIFIED = "not_modified", "Not modified (304)"
        FAILED = "failed", "Failed"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        MANUAL = "manual", "Poll now"
        COMMAND = "command", "Command"

    listing = models.ForeignKey("marketplace.Listing", on_delete=models.CASCADE, related_name="descriptor_polls")
    url = models.URLField(max_length=500)
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.SCHEDULE)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    polled_at = models.DateTimeField(auto_now_add=True, db_index=True)
    duration_ms = models.PositiveIntegerField(default=0)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    etag = models.CharField(max_length=255, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    error_kind = models.CharField(max_length=30, blank=True)
    error = models.TextField(blank=True)
    descriptor_hash = models.CharField(max_length=64, blank=True)
    version = models.ForeignKey(
        "versions.Version", null=True, blank=True, on_delete=models.SET_NULL, related_name="descriptor_polls"
    )
    bump = models.CharField(max_length=8, blank=True)
    reasons = models.JSONField(default=list, blank=True)
    # Why the numbering rule made `bump` (versions.descriptors.DescriptorDiff.bump_reason), and the
    # descriptor diff against the live version (descriptors.document_changes): the poll history shows both.
    bump_reason = models.TextField(blank=True)
    changes = models.JSONField(default=list, blank=True)
    # Set by the failure e-mail task (makes it idempotent).
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-polled_at", "-id"]
        indexes = [models.Index(fields=["listing", "-polled_at"], name="descriptor_poll_listing_at")]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=["version_created", "unchanged", "not_modified", "failed"]),
                name="descriptor_poll_outcome_valid",
            ),
            models.CheckConstraint(
                condition=~Q(outcome="failed") | ~Q(error=""), name="descriptor_poll_failure_has_error"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.listing} poll at {self.polled_at:%Y-%m-%d %H:%M} ({self.outcome})"

    @property
    def failed(self) -> bool:
        return self.outcome == self.Outcome.FAILED


class Deploy(models.Model):
    """One production deploy pushed by a forge vendor, and the version it made (or matched)."""

    listing = models.ForeignKey("marketplace.Listing", on_delete=models.CASCADE, related_name="deploys")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    manifest_hash = models.CharField(max_length=64)
    version = models.ForeignKey("versions.Version", on_delete=models.PROTECT, related_name="deploys")
    created_version = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"deploy of {self.listing} -> {self.version.number}"


class AutoVersionNotice(models.Model):
    """Marks that the vendor was e-mailed about an automatic version (the e-mail task's idempotency)."""

    version = models.OneToOneField("versions.Version", on_delete=models.CASCADE, related_name="auto_notice")
    sent_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"notice for {self.version}"
