"""The catalogue: vendors and their members, listings, scopes, host products."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from accounts.models import Invitation
from core.tokens import HashedToken
from marketplace import scopes as scope_rules
from marketplace.schemes import SCHEME_CHOICES

LISTING_KEY_RULE = (
    "must start with a lower-case letter, then 1 to 62 lower-case letters, digits or hyphens "
    "(for example jira-time-tracker)"
)
LISTING_KEY_RE = r"^[a-z][a-z0-9-]{1,62}$"
listing_key_validator = RegexValidator(LISTING_KEY_RE, f"Key {LISTING_KEY_RULE}.")


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Vendor(TimeStamped):
    """An organisation that publishes apps."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    contact_email = models.EmailField(blank=True)
    # Shown to customers on the vendor's listings; where they ask for help.
    support_email = models.EmailField(blank=True)
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, through="VendorMembership", related_name="vendors")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class VendorMembership(TimeStamped):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        DEVELOPER = "developer", "Developer"

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vendor_memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.DEVELOPER)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["vendor", "user"], name="uniq_vendor_membership")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.vendor} ({self.role})"


class VendorInvitation(Invitation):
    """An owner's e-mailed invitation to join the vendor with a role (accounts.models.Invitation)."""

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="invitations")
    role = models.CharField(
        max_length=20, choices=VendorMembership.Role.choices, default=VendorMembership.Role.DEVELOPER
    )

    class Meta(Invitation.Meta):
        constraints = [
            # One open invitation per address and vendor: a second one is a resend, not a duplicate.
            models.UniqueConstraint(
                Lower("email"),
                "vendor",
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="uniq_open_vendor_invitation",
            ),
            models.CheckConstraint(condition=Q(role__in=["owner", "developer"]), name="vendor_invitation_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.vendor} ({self.role})"


class HostProduct(TimeStamped):
    """What customer sites run (Jira, Confluence, Stash, Bitbucket Server, ...)."""

    key = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Scope(TimeStamped):
    """The scope catalogue: known permissions and how sensitive they are."""

    class Sensitivity(models.IntegerChoices):
        READ = scope_rules.READ, "read"
        WRITE = scope_rules.WRITE, "write"
        DELETE = scope_rules.DELETE, "delete"
        ADMIN = scope_rules.ADMIN, "admin"

    name = models.CharField(max_length=100, unique=True)
    sensitivity = models.PositiveSmallIntegerField(choices=Sensitivity.choices)
    description = models.CharField(max_length=255, blank=True)
    # Scopes an app must also ask for to use this one (write:jira-work requires read:jira-work);
    # a version that lacks one is refused at submission (marketplace.scopes.missing_required_scopes).
    requires = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="required_by",
        help_text="Scopes an app must also ask for to use this one (write:jira-work requires read:jira-work).",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(sensitivity__gte=1, sensitivity__lte=4), name="scope_sensitivity_range"),
            models.CheckConstraint(condition=Q(name=Lower("name")), name="scope_name_lower_case"),
        ]

    def __str__(self) -> str:
        return self.name


class Category(TimeStamped):
    """What a customer browses the storefront by (Project management, Reporting, ...)."""

    key = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=80, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Listing(TimeStamped):
    """One app in the marketplace."""

    class Pricing(models.TextChoices):
        FREE = "free", "Free"
        PAID = "paid", "Paid"

    class Visibility(models.TextChoices):
        PUBLIC = "public", "Public"
        PRIVATE = "private", "Private (allowed sites only)"

    key = models.CharField(max_length=63, unique=True, validators=[listing_key_validator])
    name = models.CharField(max_length=120)
    summary = models.CharField(max_length=255, blank=True)
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="listings")
    scheme = models.CharField(max_length=16, choices=SCHEME_CHOICES, default="manual")
    pricing = models.CharField(max_length=8, choices=Pricing.choices, default=Pricing.FREE)
    visibility = models.CharField(max_length=8, choices=Visibility.choices, default=Visibility.PUBLIC)
    allowed_sites = models.ManyToManyField("upgrades.Site", blank=True, related_name="private_listings")
    host_products = models.ManyToManyField(HostProduct, blank=True, related_name="listings")
    descriptor_url = models.URLField(max_length=500, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    # What the storefront shows: Markdown (rendered and sanitised, never raw HTML), an icon, links.
    description = models.TextField(max_length=20_000, blank=True)
    icon = models.ImageField(upload_to="listing-icons/", blank=True)
    categories = models.ManyToManyField(Category, blank=True, related_name="listings")
    support_url = models.URLField(max_length=500, blank=True)
    documentation_url = models.URLField(max_length=500, blank=True)
    privacy_url = models.URLField(max_length=500, blank=True)
    eula_url = models.URLField(max_length=500, blank=True)
    # PostgreSQL full-text search document (name, summary, description, vendor name), kept by
    # marketplace.services.listing_search_refresh; NULL on SQLite, which searches with icontains.
    search_vector = SearchVectorField(null=True, editable=False)
    # Where the portal tells the app about its installations, for schemes without a descriptor:
    # {"installed": url, "uninstalled": ..., "enabled": ..., "disabled": ..., "onUpgrade": ...,
    # "onFinalizeUpgrade": ...} (connect apps: baseUrl + lifecycle.* of their descriptor).
    lifecycle_urls = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(scheme__in=["manual", "connect", "forge", "ocp", "bundle"]), name="listing_scheme_valid"
            ),
            models.CheckConstraint(condition=Q(pricing__in=["free", "paid"]), name="listing_pricing_valid"),
            models.CheckConstraint(condition=Q(visibility__in=["public", "private"]), name="listing_visibility_valid"),
        ]

    def __str__(self) -> str:
        return self.key

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class ListingScreenshot(TimeStamped):
    """An uploaded screenshot on a listing's storefront page, in the vendor's order."""

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="screenshots")
    image = models.ImageField(upload_to="listing-screenshots/")
    caption = models.CharField(max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["listing_id", "position", "pk"]

    def __str__(self) -> str:
        return f"{self.listing_id} screenshot {self.position}"


class ListingInvitation(HashedToken):
    """Opens a private listing to one site: the vendor sends the code (or its link) to a customer,
    whose site admin redeems it for one of their sites. Vendors never see a list of customer sites."""

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="invitations")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField()
    redeemed_at = models.DateTimeField(null=True, blank=True)
    redeemed_site = models.ForeignKey(
        "upgrades.Site", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta(HashedToken.Meta):
        pass

    def __str__(self) -> str:
        return f"invitation {self.prefix}… to {self.listing_id}"
