"""Version: an immutable-once-published snapshot of an app, and its lifecycle.

Transition methods are pure: they only change the model's own fields. Services
(versions/services/) lock the row, check permissions and `can_proceed`, call
the transition, save and write exactly one VersionTransition audit row.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from django_fsm import FSMField, transition

from core.errors import ImmutableVersionError
from versions.numbers import parse_version, version_sort_key
from versions.policies import RELEASED_STATES
from versions.validation import UPDATE_NOTES_MAX


class State(models.TextChoices):
    DRAFT = "draft", "Draft"
    PENDING_APPROVAL = "pending_approval", "Pending approval"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    PUBLISHED = "published", "Published"
    SUPERSEDED = "superseded", "Superseded"
    CANCELED = "canceled", "Canceled"
    # The reviewer asked the vendor a question (reviews.services.review_ask); the reply returns it.
    NEEDS_INFORMATION = "needs_information", "Needs information"


class Source(models.TextChoices):
    FORM = "form", "Vendor form"
    API = "api", "REST API"
    POLL = "poll", "Descriptor poll"
    DEPLOY = "deploy", "Deploy"
    SHARE = "share", "Bundle share"
    MIRROR = "mirror", "Mirrored from an upstream portal"


class Pricing(models.TextChoices):
    FREE = "free", "Free"
    PAID = "paid", "Paid"


# States in which no field may change any more (only published -> superseded): the released ones.
FROZEN_STATES = RELEASED_STATES
# States a vendor's edit sends back to draft (the edit needs a new submission): only a rejection.
EDIT_RETURNS_TO_DRAFT = (State.REJECTED,)
EDITABLE_STATES = (State.DRAFT, *EDIT_RETURNS_TO_DRAFT)
# Submitted and read-only for the vendor (DESIGN.md section 4): what the reviewer sees is what
# would be published. To change anything the vendor withdraws the version to draft first.
SUBMITTED_STATES = (State.PENDING_APPROVAL, State.IN_REVIEW, State.APPROVED, State.NEEDS_INFORMATION)
DUPLICABLE_STATES = (State.CANCELED, State.PUBLISHED, State.SUPERSEDED, State.REJECTED)
WAITING_FOR_REVIEW = (State.PENDING_APPROVAL, State.IN_REVIEW)
# In the reviewers' queue: waiting for a reviewer, or for the vendor's answer to a reviewer's question.
IN_REVIEW_QUEUE = (*WAITING_FOR_REVIEW, State.NEEDS_INFORMATION)
# Fields that describe the snapshot (what duplicate copies, what immutability guards).
SNAPSHOT_FIELDS = (
    "number",
    "channel",
    "update_notes",
    "scopes",
    "members",
    "pricing",
    "api_version",
    "descriptor",
    "descriptor_hash",
    "compatibility",
    "components",
)


class VersionQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        # Published versions are immutable through every path, bulk updates included;
        # the state (published -> superseded) is the only column that may move.
        frozen = set(kwargs) - {"state", "updated_at"}
        if frozen and self.filter(state__in=FROZEN_STATES).exists():
            raise ImmutableVersionError(f"Published versions are immutable: cannot update {', '.join(sorted(frozen))}.")
        return super().update(**kwargs)

    def bulk_update(self, objs, fields, batch_size=None):
        for obj in objs:
            obj.check_immutable(set(fields))
        return super().bulk_update(objs, fields, batch_size=batch_size)

    def published(self) -> VersionQuerySet:
        return self.filter(state=State.PUBLISHED)

    def by_precedence(self) -> VersionQuerySet:
        return self.order_by("sort_key", "build_number")


class Version(models.Model):
    listing = models.ForeignKey("marketplace.Listing", on_delete=models.PROTECT, related_name="versions")
    number = models.CharField(max_length=255)
    # Bytewise order == SemVer precedence (see versions.numbers.version_sort_key).
    sort_key = models.BinaryField(max_length=600, editable=False)
    build_number = models.PositiveIntegerField()
    channel = models.CharField(max_length=40, default="release")
    update_notes = models.TextField(max_length=UPDATE_NOTES_MAX)
    scopes = models.JSONField(default=list, blank=True)
    members = models.JSONField(
        default=list, blank=True, help_text="E-mail addresses who may see it before it is public"
    )
    pricing = models.CharField(max_length=8, choices=Pricing.choices, default=Pricing.FREE)
    api_version = models.PositiveIntegerField(default=1)
    descriptor = models.JSONField(null=True, blank=True)
    descriptor_hash = models.CharField(max_length=64, blank=True)
    # [{"product": "<host product key>", "min": "9.0", "max": "10.9"}]; min/max optional.
    compatibility = models.JSONField(default=list, blank=True)
    # Bundle scheme: [{"name": "api", "version": "<deploy version>"}]
    components = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.FORM)
    # The vendor says this version breaks compatibility: manual and OCP numbers must then be a MAJOR
    # bump over what is live (versions.policies.version_bump_check). Not copied by duplicate.
    breaking = models.BooleanField(
        default=False, help_text="Breaks compatibility with the live version: needs a MAJOR bump"
    )
    state = FSMField(default=State.DRAFT, choices=State.choices, protected=True, db_index=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="reviewing_versions"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="created_versions"
    )
    duplicated_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # --- release controls (issue #16 items 2 and 4: re-release, scheduled publish) ---
    # A re-release copies a released version's content under a new, higher number (a rollback).
    rereleased_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="rereleases"
    )
    # An approved version the vendor scheduled: beat publishes it at this instant (UTC in the database).
    publish_at = models.DateTimeField(null=True, blank=True)
    # The zone the vendor entered the time in (shown back to them) and who scheduled it.
    publish_time_zone = models.CharField(max_length=64, blank=True)
    publish_scheduled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # --- end of release controls ---

    objects = VersionQuerySet.as_manager()

    class Meta:
        ordering = ["listing_id", "sort_key"]
        permissions = [("review_version", "Can review versions (start review, approve, reject)")]
        constraints = [
            models.UniqueConstraint(
                fields=["listing", "channel"],
                condition=Q(state="published"),
                name="one_published_version_per_listing_channel",
            ),
            models.UniqueConstraint(fields=["listing", "build_number"], name="uniq_version_build_number"),
            models.UniqueConstraint(
                fields=["listing", "number"],
                condition=~Q(state__in=["canceled", "rejected"]),
                name="uniq_live_version_number",
            ),
            models.CheckConstraint(condition=Q(build_number__gte=1), name="version_build_number_positive"),
            models.CheckConstraint(
                condition=Q(
                    GreaterThanOrEqual(Length("update_notes"), 1),
                    LessThanOrEqual(Length("update_notes"), UPDATE_NOTES_MAX),
                ),
                name="version_update_notes_length",
            ),
            models.CheckConstraint(condition=Q(state__in=[s.value for s in State]), name="version_state_valid"),
            models.CheckConstraint(condition=Q(pricing__in=["free", "paid"]), name="version_pricing_valid"),
            models.CheckConstraint(condition=Q(api_version__gte=1), name="version_api_version_positive"),
        ]
        indexes = [
            models.Index(fields=["listing", "state", "channel"], name="version_listing_state_channel"),
            models.Index(fields=["state", "submitted_at"], name="version_queue"),
            # Beat's scheduled-publish scan (issue #16 item 4): only the few scheduled rows are indexed.
            models.Index(fields=["publish_at"], condition=Q(publish_at__isnull=False), name="version_publish_due"),
        ]

    def __str__(self) -> str:
        return f"{self.listing.key}@{self.number}" if self.listing_id else self.number

    # --- snapshot guard -----------------------------------------------------

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded = dict(zip(field_names, values, strict=False))
        return instance

    def refresh_from_db(self, using: Any = None, fields: Any = None, from_queryset: Any = None) -> None:
        # The protected FSM field refuses assignment once set; a refresh is a re-read, not a change.
        if fields is None or "state" in fields:
            self.__dict__.pop("state", None)
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        self._loaded = {f.attname: getattr(self, f.attname) for f in self._meta.concrete_fields}

    def check_immutable(self, fields: set[str] | None = None) -> None:
        """Raise ImmutableVersionError if a frozen version has a changed field."""
        loaded = getattr(self, "_loaded", None)
        if not loaded or loaded.get("state") not in FROZEN_STATES:
            return
        for f in self._meta.concrete_fields:
            if f.attname in ("state", "updated_at") or (fields is not None and f.name not in fields):
                continue
            if f.attname in loaded and _normalise(loaded[f.attname], f) != _normalise(getattr(self, f.attname), f):
                raise ImmutableVersionError(
                    f"{self} is {loaded['state']} and immutable: field {f.name!r} cannot change. "
                    "Create a new version instead."
                )

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.check_immutable()
        if self.number:
            self.sort_key = version_sort_key(self.number)
        super().save(*args, **kwargs)
        self._loaded = {f.attname: getattr(self, f.attname) for f in self._meta.concrete_fields}

    def delete(self, *args: Any, **kwargs: Any):
        if self.state in FROZEN_STATES:
            raise ImmutableVersionError(f"{self} is {self.state} and cannot be deleted.")
        return super().delete(*args, **kwargs)

    @property
    def parsed_number(self):
        return parse_version(self.number)

    @property
    def coordinates(self) -> str:
        return f"{self.listing.key}@{self.number}"

    @property
    def is_frozen(self) -> bool:
        return self.state in FROZEN_STATES

    # --- transitions (pure: only this row's fields) ---------------------------

    @transition(field=state, source=State.DRAFT, target=State.PENDING_APPROVAL)
    def submit(self) -> None:
        from django.utils import timezone

        self.submitted_at = timezone.now()

    @transition(field=state, source=State.PENDING_APPROVAL, target=State.IN_REVIEW)
    def start_review(self, reviewer: Any = None) -> None:
        self.reviewer = reviewer

    @transition(field=state, source=State.IN_REVIEW, target=State.APPROVED)
    def approve(self) -> None:
        pass

    @transition(field=state, source=State.IN_REVIEW, target=State.REJECTED)
    def reject(self) -> None:
        pass

    @transition(field=state, source=State.APPROVED, target=State.PUBLISHED)
    def publish(self) -> None:
        from django.utils import timezone

        self.published_at = timezone.now()

    @transition(field=state, source=State.DRAFT, target=State.PUBLISHED)
    def release_without_review(self) -> None:
        """System versions (poll, deploy, share) and OCP -dev versions skip the review."""
        from django.utils import timezone

        self.published_at = timezone.now()

    @transition(field=state, source=State.PUBLISHED, target=State.SUPERSEDED)
    def supersede(self) -> None:
        pass

    @transition(
        field=state,
        source=[State.DRAFT, State.PENDING_APPROVAL, State.IN_REVIEW, State.NEEDS_INFORMATION],
        target=State.CANCELED,
    )
    def cancel(self) -> None:
        pass

    @transition(field=state, source=list(EDIT_RETURNS_TO_DRAFT), target=State.DRAFT)
    def return_to_draft(self) -> None:
        self.submitted_at = None
        self.reviewer = None

    @transition(field=state, source=list(SUBMITTED_STATES), target=State.DRAFT)
    def withdraw(self) -> None:
        """The vendor takes a submitted version back to edit it; it leaves the queue (or its approval)."""
        self.submitted_at = None
        self.reviewer = None

    @transition(field=state, source=State.IN_REVIEW, target=State.PENDING_APPROVAL)
    def release_to_queue(self) -> None:
        """The reviewer gives the version back to the queue; it keeps its place (submitted_at)."""
        self.reviewer = None

    # --- release controls (issue #16) ---

    @transition(field=state, source=State.DRAFT, target=State.APPROVED)
    def approve_rerelease(self) -> None:
        """A re-release whose content a reviewer already approved and that needs no new consent."""
        from django.utils import timezone

        self.submitted_at = timezone.now()

    # --- needs information: the reviewer's question and the vendor's answer (reviews.services) ---

    @transition(field=state, source=State.IN_REVIEW, target=State.NEEDS_INFORMATION)
    def request_information(self) -> None:
        """The reviewer asked the vendor a question; the version waits for the answer, still theirs."""

    @transition(field=state, source=State.NEEDS_INFORMATION, target=State.IN_REVIEW)
    def information_provided(self) -> None:
        """The vendor answered: back in the reviewer's queue (the claim holder keeps it)."""


def _normalise(value: Any, field: models.Field) -> Any:
    if isinstance(value, memoryview):
        return bytes(value)
    return value


class VersionTransition(models.Model):
    """The audit row: one per transition, who, when, from, to and why."""

    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="transitions")
    name = models.CharField(max_length=40)
    from_state = models.CharField(max_length=20, choices=State.choices, blank=True)
    to_state = models.CharField(max_length=20, choices=State.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    comment = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.version}: {self.from_state or '-'} -> {self.to_state} ({self.name})"

    @property
    def actor_label(self) -> str:
        return self.actor.get_username() if self.actor else "system"

    @property
    def words(self) -> str:
        """The transition in words for vendors and customers ("Submitted for review", not `submit`)."""
        return TRANSITION_WORDS.get(self.name) or self.name.replace("_", " ").capitalize()


# What each transition (and the create row) is called on the pages; a name missing here reads
# as its words ("request_information" -> "Request information").
TRANSITION_WORDS = {
    "create": "Created",
    "submit": "Submitted for review",
    "start_review": "Review started",
    "approve": "Approved",
    "reject": "Rejected",
    "publish": "Published",
    "release_without_review": "Released",
    "supersede": "Replaced by a newer version",
    "cancel": "Canceled",
    "return_to_draft": "Edited, back to draft",
    "withdraw": "Withdrawn to draft",
    "release_to_queue": "Returned to the review queue",
}
