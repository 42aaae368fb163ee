"""Internal market: one portal mirrors another's public listings and released versions.

Upstream side: MirrorToken lets a downstream portal read the mirror feed.
Downstream side: MirrorSource is an upstream to mirror, MirroredListing maps
its listing keys to local listings, MirrorSync is the history of every sync.
"""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from core.tokens import HashedToken


class MirrorToken(HashedToken):
    """A secret a downstream portal sends to read this portal's mirror feed (stored as a digest only)."""

    name = models.CharField(max_length=80, help_text="Who uses it, e.g. the internal market of ACME")

    class Meta(HashedToken.Meta):
        pass

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"


class MirrorSource(models.Model):
    """An upstream portal whose public listings this portal mirrors."""

    name = models.CharField(max_length=120, blank=True, help_text="Shown in the admin; defaults to the host")
    base_url = models.URLField(
        max_length=500, help_text="The upstream portal's address, e.g. https://market.example.com"
    )
    token = models.CharField(max_length=200, help_text="A mirror token made in the upstream portal's admin")
    key_prefix = models.CharField(
        max_length=20,
        blank=True,
        validators=[
            RegexValidator(
                r"^[a-z][a-z0-9-]{0,19}$",
                "Key prefix: a lower-case letter, then lower-case letters, digits or hyphens (e.g. up-).",
            )
        ],
        help_text="Put before every upstream listing key here (e.g. 'up-'), to keep them apart from local keys",
    )
    enabled = models.BooleanField(default=True)
    vendor = models.ForeignKey(
        "marketplace.Vendor",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The local vendor that owns the mirrored listings (made on the first sync)",
    )
    etag = models.CharField(max_length=255, blank=True)
    last_modified = models.CharField(max_length=64, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    failure_streak = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(key_prefix="") | Q(key_prefix__regex=r"^[a-z][a-z0-9-]{0,19}$"),
                name="mirror_source_key_prefix_valid",
                violation_error_message="Key prefix: a lower-case letter, then lower-case letters, digits or hyphens.",
            )
        ]

    def __str__(self) -> str:
        return self.name or self.host

    @property
    def host(self) -> str:
        from urllib.parse import urlsplit

        try:
            return urlsplit(self.base_url).hostname or self.base_url
        except ValueError:
            return self.base_url


class MirroredListing(models.Model):
    """An upstream listing key and the local listing that mirrors it."""

    source = models.ForeignKey(MirrorSource, on_delete=models.CASCADE, related_name="listings")
    upstream_key = models.CharField(max_length=63)
    listing = models.OneToOneField("marketplace.Listing", on_delete=models.PROTECT, related_name="mirrored_from")
    upstream_vendor = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["upstream_key"]
        constraints = [models.UniqueConstraint(fields=["source", "upstream_key"], name="uniq_mirrored_upstream_key")]

    def __str__(self) -> str:
        return f"{self.upstream_key} -> {self.listing_id}"


class MirrorSync(models.Model):
    """One sync of a source: what it found, what it changed, what went wrong."""

    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        SYNCED = "synced", "Synced"
        NOT_MODIFIED = "not_modified", "Not modified"
        PARTIAL = "partial", "Synced with errors"
        FAILED = "failed", "Failed"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        ADMIN = "admin", "Admin"
        COMMAND = "command", "Command"

    source = models.ForeignKey(MirrorSource, on_delete=models.CASCADE, related_name="syncs")
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.SCHEDULE)
    outcome = models.CharField(max_length=14, choices=Outcome.choices, default=Outcome.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    pages = models.PositiveIntegerField(default=0)
    listings_seen = models.PositiveIntegerField(default=0)
    listings_created = models.PositiveIntegerField(default=0)
    listings_updated = models.PositiveIntegerField(default=0)
    listings_archived = models.PositiveIntegerField(default=0)
    versions_created = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, help_text="Why the sync failed or which listings were refused")
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        get_latest_by = "started_at"

    def __str__(self) -> str:
        return f"{self.source} {self.started_at:%Y-%m-%d %H:%M} {self.outcome}"

    @property
    def summary(self) -> str:
        if self.outcome == self.Outcome.FAILED:
            return f"failed: {self.error}"
        if self.outcome == self.Outcome.NOT_MODIFIED:
            return "not modified since the last sync"
        text = (
            f"{self.listings_seen} listings seen, {self.listings_created} created, {self.listings_updated} updated, "
            f"{self.listings_archived} archived, {self.versions_created} versions created"
        )
        if self.errors:
            text += f"; {len(self.errors)} refused: " + "; ".join(e["message"] for e in self.errors[:5])
        return text
