"""Customer sites (tenants) and what is installed on them."""

from __future__ import annotations

import uuid
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django_fsm import FSMField, transition

from accounts.models import Invitation
from core.tokens import HashedToken


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"Time zone {value!r} is not a known IANA time zone (for example Europe/Berlin).")


class Site(models.Model):
    """A customer instance or tenant."""

    name = models.CharField(max_length=120)
    host_product = models.ForeignKey("marketplace.HostProduct", on_delete=models.PROTECT, related_name="sites")
    host_version = models.CharField(max_length=40, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    # Weekly intervals in the site's time zone: [{"weekday": 0-6 (Mon=0), "start": "HH:MM", "end": "HH:MM"}]
    maintenance_windows = models.JSONField(default=list, blank=True)
    auto_update = models.BooleanField(default=True)
    # A vendor's own sandbox site: the only place their OCP -dev versions are visible.
    sandbox_vendor = models.ForeignKey(
        "marketplace.Vendor", null=True, blank=True, on_delete=models.SET_NULL, related_name="sandbox_sites"
    )
    admins = models.ManyToManyField(settings.AUTH_USER_MODEL, through="SiteAdmin", related_name="administered_sites")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from core.errors import ApplicationError
        from upgrades.windows import clean_windows

        try:
            self.maintenance_windows = clean_windows(self.maintenance_windows)
        except ApplicationError as exc:
            raise ValidationError({"maintenance_windows": exc.message}) from None


class AppliedUpgradeEmails(models.TextChoices):
    """How a site admin hears about upgrades applied on one site (consent requests always come at once)."""

    IMMEDIATELY = "immediately", "One e-mail per upgrade, as it is applied"
    DIGEST = "digest", "One daily digest of the upgrades applied"
    OFF = "off", "No e-mail (the site page lists them)"


class SiteAdmin(models.Model):
    """Who may approve upgrades for a site: a user, or just an e-mail address."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="site_admins")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)
    email = models.EmailField()
    # Notification preference for this site (issue #16 item 5).
    applied_upgrades = models.CharField(
        max_length=12, choices=AppliedUpgradeEmails.choices, default=AppliedUpgradeEmails.IMMEDIATELY
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "email"], name="uniq_site_admin_email")]

    def __str__(self) -> str:
        return f"{self.email} ({self.site})"


class SiteInvitation(Invitation):
    """A site admin's e-mailed invitation to another person to administer the site too."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="invitations")

    class Meta(Invitation.Meta):
        constraints = [
            models.UniqueConstraint(
                models.functions.Lower("email"),
                "site",
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="uniq_open_site_invitation",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} to administer {self.site}"


class ProtectedStateMixin:
    """The protected FSM field refuses assignment once set; a refresh is a re-read, not a change."""

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        if fields is None or "state" in fields:
            self.__dict__.pop("state", None)
        return super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)


# --- site API tokens -------------------------------------------------------------


class SiteToken(HashedToken):
    """A secret a customer instance uses to call the update check (stored as a digest only)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="tokens")
    name = models.CharField(max_length=80, blank=True)

    class Meta(HashedToken.Meta):
        pass

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.site})"


# --- installations -------------------------------------------------------------------


class InstallationState(models.TextChoices):
    ACTIVE = "active", "Active"
    DEACTIVATED = "deactivated", "Deactivated"
    PENDING_CONSENT = "pending_consent", "Pending consent"
    # A site admin switched it off, its licence expired, or the admin turned down its new price.
    DISABLED = "disabled", "Disabled"
    # The row stays (its history and audit rows refer to it); installing again reuses it.
    UNINSTALLED = "uninstalled", "Uninstalled"


# Installations that do not run: rollouts, the update check and due upgrades pass them by.
NOT_RUNNING_STATES = (InstallationState.DEACTIVATED, InstallationState.DISABLED, InstallationState.UNINSTALLED)


class DisabledReason(models.TextChoices):
    NONE = "", "—"
    ADMIN = "admin", "Disabled by a site admin"
    LICENCE_EXPIRED = "licence_expired", "The licence expired"
    PAID_NOT_ACCEPTED = "paid_not_accepted", "The app became paid and its price was not accepted"


class AppStatus(models.TextChoices):
    NONE = "", "No lifecycle callback"
    PENDING = "pending", "Telling the app"
    CONFIRMED = "confirmed", "App confirmed"
    UNCONFIRMED = "unconfirmed", "Installed, app not confirmed"


class Installation(models.Model):
    """A listing installed on a site.

    The state moves in bulk (a rollout chunk flags thousands of installations
    at once with one UPDATE), so it is a plain choice column guarded by a
    check constraint rather than a per-row state machine.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="installations")
    listing = models.ForeignKey("marketplace.Listing", on_delete=models.PROTECT, related_name="installations")
    version = models.ForeignKey("versions.Version", on_delete=models.PROTECT, related_name="installations")
    # What the site's admins consented to; a new version's scopes are compared with this.
    granted_scopes = models.JSONField(default=list, blank=True)
    license = models.CharField(max_length=8, choices=[("free", "Free"), ("paid", "Paid")], default="free")
    state = models.CharField(max_length=20, choices=InstallationState.choices, default=InstallationState.ACTIVE)
    disabled_reason = models.CharField(max_length=20, choices=DisabledReason.choices, default="", blank=True)
    installed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The HS256 key of this installation's lifecycle callbacks, given to the app in the `installed`
    # payload. Kept as it is (not hashed): the portal signs with it.
    shared_secret = models.CharField(max_length=64, blank=True)
    # Whether the app confirmed the `installed` callback ("" when the listing has none).
    app_status = models.CharField(max_length=12, choices=AppStatus.choices, blank=True, default="")
    installed_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["site_id", "listing_id"]
        constraints = [
            models.UniqueConstraint(fields=["site", "listing"], name="uniq_installation_site_listing"),
            models.CheckConstraint(
                condition=models.Q(state__in=["active", "deactivated", "pending_consent", "disabled", "uninstalled"]),
                name="installation_state_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    state="disabled", disabled_reason__in=["admin", "licence_expired", "paid_not_accepted"]
                )
                | (~models.Q(state="disabled") & models.Q(disabled_reason="")),
                name="installation_disabled_has_reason",
            ),
            models.CheckConstraint(condition=models.Q(license__in=["free", "paid"]), name="installation_license_valid"),
        ]
        indexes = [
            models.Index(fields=["listing", "state"], name="installation_listing_state"),
            # A rollout's chunks walk a listing's installations in id order (keyset pagination,
            # upgrades.services.rollouts.rollout_chunk_installations): each chunk reads its own rows.
            models.Index(fields=["listing", "id"], name="installation_rollout_keyset"),
        ]

    def __str__(self) -> str:
        return f"{self.listing_id}@{self.site_id}"


# --- licences --------------------------------------------------------------------------


class LicenceState(models.TextChoices):
    TRIAL = "trial", "Free trial"
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"


LICENCE_RUNNING_STATES = (LicenceState.TRIAL, LicenceState.ACTIVE)


class Licence(ProtectedStateMixin, models.Model):
    """A paid app's licence on one site. No payment processor: the states and dates are real
    and enforced (an expired licence disables the app; upgrades.services.licences_expire)."""

    installation = models.OneToOneField(Installation, on_delete=models.CASCADE, related_name="licence")
    state = FSMField(default=LicenceState.TRIAL, choices=LicenceState.choices, protected=True)
    started_at = models.DateTimeField()
    # End of the trial or of the paid period; the licence expires then unless renewed.
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=["trial", "active", "expired", "cancelled"]), name="licence_state_valid"
            ),
            models.CheckConstraint(condition=models.Q(expires_at__gt=models.F("started_at")), name="licence_dates"),
        ]
        indexes = [models.Index(fields=["state", "expires_at"], name="licence_state_expiry")]

    def __str__(self) -> str:
        return f"licence of installation {self.installation_id} ({self.state})"

    @transition(field=state, source=[LicenceState.TRIAL, LicenceState.EXPIRED], target=LicenceState.ACTIVE)
    def activate(self, *, now: object, period: object) -> None:
        self.started_at = now
        self.expires_at = now + period
        self.ended_at = None

    @transition(
        field=state,
        source=[LicenceState.TRIAL, LicenceState.ACTIVE, LicenceState.CANCELLED],
        target=LicenceState.EXPIRED,
    )
    def expire(self, *, now: object) -> None:
        self.ended_at = now

    @transition(
        field=state,
        source=[LicenceState.TRIAL, LicenceState.ACTIVE, LicenceState.EXPIRED],
        target=LicenceState.CANCELLED,
    )
    def cancel(self, *, now: object) -> None:
        self.ended_at = self.ended_at or now

    @transition(field=state, source=LicenceState.CANCELLED, target=LicenceState.TRIAL)
    def reopen(self) -> None:
        """Installing again within the first trial's dates: the same trial goes on (one trial per site)."""
        self.ended_at = None


# --- rollouts ------------------------------------------------------------------------


class RolloutState(models.TextChoices):
    RUNNING = "running", "Running"
    HALTED = "halted", "Halted"
    COMPLETED = "completed", "Completed"
    SUPERSEDED = "superseded", "Superseded"


class Rollout(ProtectedStateMixin, models.Model):
    """Bringing one published version to the installations of its listing."""

    version = models.OneToOneField("versions.Version", on_delete=models.PROTECT, related_name="rollout")
    listing = models.ForeignKey("marketplace.Listing", on_delete=models.PROTECT, related_name="rollouts")
    state = FSMField(default=RolloutState.RUNNING, choices=RolloutState.choices, protected=True)
    # Installations offered this version (an upgrade scheduled or a consent request made).
    targeted = models.PositiveIntegerField(default=0)
    chunks_processed = models.PositiveIntegerField(default=0)
    # Highest installation id looked at: chunks walk the installations in id order.
    cursor = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    # When a chunk last moved the rollout (or it started or resumed). Progress lives in the
    # database, not in a queued message: beat picks up a running rollout whose last move is
    # older than ROLLOUT_STALL_AFTER (its message was lost, or its worker killed).
    progressed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    halted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    halted_at = models.DateTimeField(null=True, blank=True)
    # --- stages (issue #16; upgrades.services.stages) ---------------------------------------
    # Copied from the version's StagePlan when the rollout starts; [] = everybody at once.
    stages = models.JSONField(default=list, blank=True)
    stage_index = models.PositiveSmallIntegerField(default=0)
    # Installations whose bucket (versions.policies.stage_bucket) is below this are in the stage.
    bucket_limit = models.PositiveIntegerField(default=10_000)
    stage_started_at = models.DateTimeField(null=True, blank=True)
    advance_every_hours = models.PositiveIntegerField(null=True, blank=True)
    halt_failure_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    # Why the rollout last halted by itself (a stage's failure rate); "" when a person halted it.
    halt_reason = models.CharField(max_length=255, blank=True)
    # When the vendor was e-mailed about that halt (once per halt: send_email_once's record).
    halt_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(bucket_limit__lte=10_000), name="rollout_bucket_limit_range"),
        ]

    def __str__(self) -> str:
        return f"rollout of version {self.version_id} ({self.state})"

    @property
    def is_staged(self) -> bool:
        return bool(self.stages)

    @property
    def stage_percent(self) -> int:
        return self.stages[self.stage_index] if self.stages else 100

    @property
    def is_last_stage(self) -> bool:
        return not self.stages or self.stage_index >= len(self.stages) - 1

    @transition(field=state, source=RolloutState.RUNNING, target=RolloutState.HALTED)
    def halt(self, actor: object = None) -> None:
        from django.utils import timezone

        self.halted_by = actor if getattr(actor, "is_authenticated", False) else None
        self.halted_at = timezone.now()

    @transition(field=state, source=RolloutState.HALTED, target=RolloutState.RUNNING)
    def resume(self) -> None:
        """halted_by/halted_at stay: they say who halted last; every halt and resume is in the audit log."""

    @transition(field=state, source=RolloutState.RUNNING, target=RolloutState.COMPLETED)
    def complete(self) -> None:
        from django.utils import timezone

        self.finished_at = timezone.now()

    @transition(
        field=state,
        source=[RolloutState.RUNNING, RolloutState.HALTED, RolloutState.COMPLETED],
        target=RolloutState.SUPERSEDED,
    )
    def supersede(self) -> None:
        from django.utils import timezone

        self.finished_at = self.finished_at or timezone.now()


class UpgradeState(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    APPLIED = "applied", "Applied"
    FAILED = "failed", "Failed"
    SUPERSEDED = "superseded", "Superseded"


class Upgrade(models.Model):
    """Moving one installation from one version to another, now or at `due_at`."""

    installation = models.ForeignKey(Installation, on_delete=models.CASCADE, related_name="upgrades")
    rollout = models.ForeignKey(Rollout, null=True, blank=True, on_delete=models.SET_NULL, related_name="upgrades")
    request = models.OneToOneField(
        "UpgradeRequest", null=True, blank=True, on_delete=models.SET_NULL, related_name="upgrade"
    )
    from_version = models.ForeignKey("versions.Version", on_delete=models.PROTECT, related_name="+")
    to_version = models.ForeignKey("versions.Version", on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=12, choices=UpgradeState.choices, default=UpgradeState.SCHEDULED)
    due_at = models.DateTimeField()
    applied_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=255, blank=True)
    # OCP lifecycle hooks called for this installation: [{"hook": "onUpgrade", "at": ...}, ...]
    hooks = models.JSONField(default=list, blank=True)
    # When the app's onUpgrade hook was first called: the upgrade waits for its answer
    # (applying it is then up to that delivery, not to the next chunk).
    hook_started_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["installation"],
                condition=models.Q(state="scheduled"),
                name="one_scheduled_upgrade_per_installation",
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=["scheduled", "applied", "failed", "superseded"]),
                name="upgrade_state_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "due_at"], name="upgrade_due"),
            models.Index(fields=["to_version", "state"], name="upgrade_version_state"),
        ]

    def __str__(self) -> str:
        return f"upgrade {self.installation_id}: {self.from_version_id} -> {self.to_version_id} ({self.state})"


class RequestState(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    SUPERSEDED = "superseded", "Superseded"
    EXPIRED = "expired", "Expired"


class UpgradeRequest(ProtectedStateMixin, models.Model):
    """Asking a site's admins to consent to an upgrade (new scopes, a price, a major upgrade)."""

    installation = models.ForeignKey(Installation, on_delete=models.CASCADE, related_name="upgrade_requests")
    rollout = models.ForeignKey(Rollout, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests")
    from_version = models.ForeignKey("versions.Version", on_delete=models.PROTECT, related_name="+")
    to_version = models.ForeignKey("versions.Version", on_delete=models.PROTECT, related_name="+")
    # [{"code": "scope_added", "text": "...", "scope": "...", "sensitivity": "write"}, ...]
    reasons = models.JSONField(default=list)
    state = FSMField(default=RequestState.PENDING, choices=RequestState.choices, protected=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by_email = models.EmailField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["installation"], condition=models.Q(state="pending"), name="one_open_request_per_installation"
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=["pending", "approved", "rejected", "superseded", "expired"]),
                name="upgrade_request_state_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "created_at"], name="upgrade_request_open"),
            models.Index(fields=["to_version", "state"], name="upgrade_request_version"),
        ]

    def __str__(self) -> str:
        return f"request {self.pk}: installation {self.installation_id} -> {self.to_version_id} ({self.state})"

    @property
    def decider_label(self) -> str:
        if self.decided_by_id:
            return self.decided_by.get_username()
        return self.decided_by_email or "system"

    def _decide(self, actor: object, email: str) -> None:
        from django.utils import timezone

        self.decided_by = actor if getattr(actor, "is_authenticated", False) else None
        self.decided_by_email = email or getattr(actor, "email", "") or ""
        self.decided_at = timezone.now()

    @transition(field=state, source=RequestState.PENDING, target=RequestState.APPROVED)
    def approve(self, actor: object = None, email: str = "") -> None:
        self._decide(actor, email)

    @transition(field=state, source=RequestState.PENDING, target=RequestState.REJECTED)
    def reject(self, actor: object = None, email: str = "") -> None:
        self._decide(actor, email)

    @transition(field=state, source=RequestState.PENDING, target=RequestState.EXPIRED)
    def expire(self) -> None:
        from django.utils import timezone

        self.decided_at = timezone.now()


class ConsentLink(models.Model):
    """One recipient's link for one request. The signed token names this row;
    using it once records `used_at`, so a replayed link changes nothing."""

    request = models.ForeignKey(UpgradeRequest, on_delete=models.CASCADE, related_name="links")
    email = models.EmailField()
    nonce = models.UUIDField(unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)
    used_for = models.CharField(max_length=10, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["request", "email"], name="uniq_consent_link_recipient")]

    def __str__(self) -> str:
        return f"link for {self.email} on request {self.request_id}"


class SentEmail(models.Model):
    """The outbox of e-mails to site admins: one row per message, written in the same
    transaction as the request or upgrade it announces (so a crash can lose neither).

    A sender claims queued rows (SELECT ... FOR UPDATE SKIP LOCKED) by setting
    `claimed_until`, sends them over one SMTP connection and marks each sent.
    A sender that dies leaves its claims to expire; the next sender retries them
    with the same `message_id`, so a message the SMTP server had accepted just
    before the crash reaches the recipient's mailbox as the same message
    (mail clients and most servers keep one copy per Message-ID).
    """

    class Kind(models.TextChoices):
        CONSENT = "consent", "Upgrade needs approval"
        REMINDER = "reminder", "Reminder"
        APPLIED = "applied", "Upgrade applied"

    class State(models.TextChoices):
        QUEUED = "queued", "Waiting to be sent"
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Not sent (no longer relevant)"
        FAILED = "failed", "Not sent (refused every time)"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    recipient = models.EmailField()
    request = models.ForeignKey(UpgradeRequest, null=True, blank=True, on_delete=models.CASCADE, related_name="emails")
    upgrade = models.ForeignKey(Upgrade, null=True, blank=True, on_delete=models.CASCADE, related_name="emails")
    subject = models.CharField(max_length=255, blank=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    # Chosen when the row is written; every attempt sends it again under the same id.
    message_id = models.CharField(max_length=255, blank=True)
    # A sender's claim: until then no other sender takes the row; after it, the claim is stale.
    claimed_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    outcome = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "request", "recipient"],
                condition=models.Q(request__isnull=False),
                name="uniq_request_email",
            ),
            models.UniqueConstraint(
                fields=["kind", "upgrade", "recipient"],
                condition=models.Q(upgrade__isnull=False),
                name="uniq_upgrade_email",
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=["queued", "sent", "skipped", "failed"]), name="sent_email_state_valid"
            ),
        ]
        # The senders' query: queued rows in order, whatever the size of the sent history.
        indexes = [
            models.Index(fields=["id"], condition=models.Q(state="queued"), name="sent_email_queued"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient}"


# --- product migrations --------------------------------------------------------------


class ProductMigration(models.Model):
    """A site moved to another host product (Stash -> Bitbucket Server): who, when, from what to what.

    Its installations were switched off at that moment; each got a MigrationOffer.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="product_migrations")
    from_product = models.ForeignKey("marketplace.HostProduct", on_delete=models.PROTECT, related_name="+")
    from_version = models.CharField(max_length=40, blank=True)
    to_product = models.ForeignKey("marketplace.HostProduct", on_delete=models.PROTECT, related_name="+")
    to_version = models.CharField(max_length=40)
    migrated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # What the move switched off or cancelled (for the audit trail and the result page).
    deactivated = models.PositiveIntegerField(default=0)
    requests_superseded = models.PositiveIntegerField(default=0)
    upgrades_superseded = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(from_product=models.F("to_product")), name="migration_changes_product"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site}: {self.from_product_id} {self.from_version} -> {self.to_product_id} {self.to_version}"


class OfferState(models.TextChoices):
    OFFERED = "offered", "Upgrade offered"
    UNAVAILABLE = "unavailable", "No upgrade"
    ACCEPTED = "accepted", "Upgraded"
    SUPERSEDED = "superseded", "Replaced by a later move"


class MigrationOffer(models.Model):
    """What one installation is offered after its site moved product, or why nothing is."""

    migration = models.ForeignKey(ProductMigration, on_delete=models.CASCADE, related_name="offers")
    installation = models.ForeignKey(Installation, on_delete=models.CASCADE, related_name="migration_offers")
    installed_version = models.ForeignKey("versions.Version", on_delete=models.PROTECT, related_name="+")
    offered_version = models.ForeignKey(
        "versions.Version", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(max_length=12, choices=OfferState.choices)
    # upgrades.offer_rules codes: offered, not_greater, incompatible, not_available
    code = models.CharField(max_length=20)
    reason = models.TextField(blank=True)
    # Why accepting needs the admin's consent ([] when it doesn't), as computed when offered.
    consent_reasons = models.JSONField(default=list, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    upgrade = models.OneToOneField(
        Upgrade, null=True, blank=True, on_delete=models.SET_NULL, related_name="migration_offer"
    )

    class Meta:
        ordering = ["migration_id", "installation_id"]
        constraints = [
            models.UniqueConstraint(fields=["migration", "installation"], name="uniq_offer_per_migration"),
            models.UniqueConstraint(
                fields=["installation"], condition=models.Q(state="offered"), name="one_open_offer_per_installation"
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=["offered", "unavailable", "accepted", "superseded"]),
                name="migration_offer_state_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(state__in=["offered", "accepted"]) | models.Q(offered_version__isnull=False),
                name="migration_offer_has_version",
            ),
        ]

    def __str__(self) -> str:
        return f"offer {self.pk}: installation {self.installation_id} ({self.state})"


# --- OCP beta share links ------------------------------------------------------------


class BetaShareLink(models.Model):
    """A vendor's link to one published OCP -beta version: the only way a site gets a beta.

    The URL carries a token signed with its own salt (upgrades.share_links) that names
    this row and its nonce, so a link can be listed, counted and revoked; the
    expiry lives here too, where the vendor sees and controls it.
    """

    version = models.ForeignKey("versions.Version", on_delete=models.PROTECT, related_name="beta_links")
    nonce = models.UUIDField(unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["version", "created_at"], name="beta_link_version")]

    def __str__(self) -> str:
        return f"beta link {self.pk} to version {self.version_id}"


class BetaInstall(models.Model):
    """A site admin pressed Install on a beta link's page: what they saw and agreed to.

    The page listed the version's scopes and price, so this row is the consent
    record (who, when, which scopes, which price, which reasons applied). One
    per installation and version: a second press installs nothing.
    """

    link = models.ForeignKey(BetaShareLink, on_delete=models.PROTECT, related_name="installs")
    installation = models.ForeignKey(Installation, on_delete=models.CASCADE, related_name="beta_installs")
    version = models.ForeignKey("versions.Version", on_delete=models.PROTECT, related_name="+")
    # None: the listing was not installed on the site before (a fresh install).
    from_version = models.ForeignKey(
        "versions.Version", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    upgrade = models.OneToOneField(
        Upgrade, null=True, blank=True, on_delete=models.SET_NULL, related_name="beta_install"
    )
    installed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    installed_by_email = models.EmailField(blank=True)
    granted_scopes = models.JSONField(default=list, blank=True)
    license = models.CharField(max_length=8, choices=[("free", "Free"), ("paid", "Paid")], default="free")
    # versions.policies reasons that applied (an OCP major upgrade, ...), as shown on the page.
    consent_reasons = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["installation", "version"], name="one_beta_install_per_version"),
        ]

    def __str__(self) -> str:
        return f"beta install of version {self.version_id} on installation {self.installation_id}"


# --- callbacks to the vendor's app and vendor webhooks ----------------------------------------


class WebhookEvent(models.TextChoices):
    VERSION_APPROVED = "version.approved", "Version approved"
    VERSION_REJECTED = "version.rejected", "Version rejected"
    VERSION_PUBLISHED = "version.published", "Version published"
    ROLLOUT_COMPLETED = "rollout.completed", "Rollout completed"
    ROLLOUT_HALTED = "rollout.halted", "Rollout halted"
    INSTALLATION_INSTALLED = "installation.installed", "App installed"
    INSTALLATION_UNINSTALLED = "installation.uninstalled", "App uninstalled"
    CONSENT_APPROVED = "consent.approved", "Upgrade approved by a site"
    CONSENT_REJECTED = "consent.rejected", "Upgrade rejected by a site"


class WebhookEndpoint(models.Model):
    """A vendor's URL that receives some events of one listing, signed Standard-Webhooks style.

    The secret is kept as it is because it signs (a digest could not); it is shown
    once, when created or rotated. After a rotation the previous secret signs too
    until `previous_secret_expires_at`, so the receiver can switch without a gap.
    """

    listing = models.ForeignKey("marketplace.Listing", on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=120, blank=True)
    events = models.JSONField(default=list)
    secret = models.CharField(max_length=80)
    previous_secret = models.CharField(max_length=80, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["listing_id", "created_at", "id"]

    def __str__(self) -> str:
        return f"webhook {self.pk}: {self.url}"


class DeliveryKind(models.TextChoices):
    LIFECYCLE = "lifecycle", "Lifecycle callback"
    WEBHOOK = "webhook", "Webhook"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    RETRYING = "retrying", "Failed, will retry"
    SUCCEEDED = "succeeded", "Delivered"
    FAILED = "failed", "Failed for good"


class Delivery(models.Model):
    """One message to a vendor's app or endpoint, sent until it is answered 2xx or its attempts run out.

    `delivery_id` is the idempotency key: every attempt (and a redelivery's) carries
    it, so the receiver recognises a message it already handled (at-least-once).
    `next_attempt_at` doubles as a lease: a worker that takes the delivery moves it
    forward before calling, so two workers never call at once.
    """

    delivery_id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=10, choices=DeliveryKind.choices)
    event = models.CharField(max_length=40)
    listing = models.ForeignKey("marketplace.Listing", on_delete=models.CASCADE, related_name="deliveries")
    installation = models.ForeignKey(
        Installation, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    upgrade = models.ForeignKey(Upgrade, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    url = models.CharField(max_length=500)
    payload = models.JSONField(default=dict)
    state = models.CharField(max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=6)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_response = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=["pending", "retrying", "succeeded", "failed"]),
                name="delivery_state_valid",
            ),
            models.CheckConstraint(condition=models.Q(kind__in=["lifecycle", "webhook"]), name="delivery_kind_valid"),
            models.CheckConstraint(
                condition=models.Q(attempts__lte=models.F("max_attempts")), name="delivery_attempts_bounded"
            ),
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="delivery_due"),
            models.Index(fields=["listing", "created_at"], name="delivery_listing"),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.delivery_id} ({self.state})"


class DeliveryAttempt(models.Model):
    """One call of a delivery: what was answered, how fast, or why nothing was."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    latency_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    response_excerpt = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["delivery_id", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="uniq_delivery_attempt")]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery {self.delivery_id}"


class DeliveryStreak(models.Model):
    """A target (a listing's lifecycle URLs, or one webhook endpoint) whose deliveries fail for good.

    The vendor is e-mailed when the row is created, not per failure; the next
    delivered message ends the streak (deletes the row).
    """

    target = models.CharField(max_length=40, unique=True)  # "lifecycle:<listing id>" or "webhook:<endpoint id>"
    listing = models.ForeignKey("marketplace.Listing", on_delete=models.CASCADE, related_name="+")
    failing_since = models.DateTimeField()
    failures = models.PositiveIntegerField(default=1)
    notified_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.target} failing since {self.failing_since}"


class UpgradeDigest(models.Model):
    """One site admin's daily digest of the upgrades applied on one site (issue #16 item 5).

    At most one per admin and day (the unique constraint: a second beat run the
    same day makes none). Each covers [period_start, period_end): the next one
    starts where the last ended, so every applied upgrade is in exactly one
    digest. `upgrade_ids` records what it covered; `sent_at` that it went out.
    """

    site_admin = models.ForeignKey(SiteAdmin, on_delete=models.CASCADE, related_name="digests")
    day = models.DateField()
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    upgrade_ids = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-period_end"]
        constraints = [models.UniqueConstraint(fields=["site_admin", "day"], name="uniq_upgrade_digest_per_day")]

    def __str__(self) -> str:
        return f"Digest {self.day} for {self.site_admin}"
