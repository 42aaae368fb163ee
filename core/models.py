"""Tables every app shares: worker heartbeats and the audit log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class WorkerHeartbeat(models.Model):
    """Last time a Celery process checked in (beat schedules it): shown by /healthz."""

    name = models.CharField(max_length=60, unique=True)
    last_seen = models.DateTimeField()
    hostname = models.CharField(max_length=255, blank=True)

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_seen:%Y-%m-%d %H:%M:%S}"


class AuditEvent(models.Model):
    """One state change of one object: who, when, what, from which state to which (Zulip's RealmAuditLog).

    Written by the service that makes the change, in the same transaction (core.audit);
    bulk services write theirs with one bulk_create. The object is named by a short
    type string (`<app_label>.<model_name>`, e.g. `versions.version`) and its id, so
    core refers to no other app and "history of these objects" is one indexed query.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # covered by the (actor, at) index
    )
    # Who acted, as shown: a username, an e-mailed admin's address, or "system" (beat, rollouts, mirror).
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=60)
    object_type = models.CharField(max_length=60)
    object_id = models.BigIntegerField()
    # What the object was called at the time (it may be renamed or deleted later).
    object_repr = models.CharField(max_length=200, blank=True)
    from_state = models.CharField(max_length=60, blank=True)
    to_state = models.CharField(max_length=60, blank=True)
    # Reason, comment, changed fields, related ids: whatever the service knows about the change.
    details = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "at"], name="audit_object_history"),
            models.Index(fields=["actor", "at"], name="audit_actor_history"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label or 'system'} {self.action} {self.object_type}#{self.object_id}"

    @property
    def actor_words(self) -> str:
        return "The portal" if self.actor_label in ("", "system") else self.actor_label

    @property
    def verb(self) -> str:
        """The action in words ("published", "halted"): what the history pages show."""
        return ACTION_WORDS.get(self.action) or self.action.rsplit(".", 1)[-1].replace("_", " ")

    @property
    def noun(self) -> str:
        return OBJECT_WORDS.get(self.object_type, self.object_type.rsplit(".", 1)[-1])

    @property
    def from_words(self) -> str:
        return self.from_state.replace("_", " ")

    @property
    def to_words(self) -> str:
        return self.to_state.replace("_", " ")

    @property
    def comment(self) -> str:
        details = self.details if isinstance(self.details, dict) else {}
        if details.get("comment") or details.get("reason"):
            return str(details.get("comment") or details.get("reason"))
        if isinstance(details.get("changes"), dict):
            return "changed " + ", ".join(name.replace("_", " ") for name in details["changes"])
        return ""


# How the history pages name objects and actions (the codes stay in the table and the admin).
OBJECT_WORDS = {
    "marketplace.listing": "listing",
    "versions.version": "version",
    "upgrades.rollout": "rollout",
    "upgrades.site": "site",
    "upgrades.installation": "app",
    "upgrades.upgrade": "upgrade",
    "upgrades.upgraderequest": "upgrade request",
    "upgrades.migrationoffer": "migration offer",
    "upgrades.betasharelink": "beta share link",
    "mirror.mirrorsync": "mirror sync",
}
ACTION_WORDS = {
    "listing.create": "created",
    "listing.update": "edited",
    "listing.archive": "archived",
    "listing.unarchive": "unarchived",
    "version.create": "created",
    "version.submit": "submitted for review",
    "version.start_review": "started the review of",
    "version.approve": "approved",
    "version.reject": "rejected",
    "version.publish": "published",
    "version.release_without_review": "released without review",
    "version.supersede": "superseded",
    "version.cancel": "canceled",
    "version.return_to_draft": "returned to draft (edited)",
    "version.withdraw": "withdrew to draft",
    "version.release_to_queue": "released to the review queue",
    "rollout.start": "started",
    "rollout.halt": "halted",
    "rollout.resume": "resumed",
    "rollout.complete": "completed",
    "rollout.supersede": "superseded",
    "site.create": "created",
    "site.update_settings": "changed the settings of",
    "site.move_product": "moved to another product",
    "installation.install": "installed",
    "installation.upgrade": "upgraded",
    "installation.await_consent": "asked for consent on",
    "installation.activate": "switched on",
    "installation.deactivate": "switched off",
    "upgrade.schedule": "scheduled",
    "upgrade.apply": "applied",
    "upgrade.fail": "failed",
    "upgrade.supersede": "superseded",
    "upgrade_request.create": "asked for consent to",
    "upgrade_request.approve": "approved",
    "upgrade_request.reject": "rejected",
    "upgrade_request.expire": "expired",
    "upgrade_request.supersede": "superseded",
    "migration_offer.create": "made",
    "migration_offer.accept": "accepted",
    "migration_offer.keep": "kept the installed version for",
    "migration_offer.supersede": "superseded",
    "beta_link.create": "created",
    "beta_link.revoke": "revoked",
    "beta_link.install": "installed through",
    "mirror_sync.start": "started",
    "mirror_sync.finish": "finished",
    "mirror_sync.fail": "failed",
}


class EmailPreference(models.Model):
    """Whether an address gets one kind of the portal's e-mails (core.notifications.VENDOR_EMAIL_KINDS).

    Kept by address, not by user: the vendor's contact address and a member's
    notification address are both recipients (core.emails.vendor_recipients),
    and the signed unsubscribe link in each e-mail names the address it went to.
    No row means the default: the e-mail is sent.
    """

    email = models.EmailField()
    kind = models.CharField(max_length=40)
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["email", "kind"], name="uniq_email_preference")]

    def __str__(self) -> str:
        return f"{self.email}: {self.kind} {'on' if self.enabled else 'off'}"
