from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest

from core.admin import ReadOnlyAdminMixin
from core.errors import ApplicationError
from marketplace import services
from marketplace.models import (
    Category,
    HostProduct,
    Listing,
    ListingInvitation,
    ListingScreenshot,
    Scope,
    Vendor,
    VendorInvitation,
    VendorMembership,
)


class VendorMembershipInline(admin.TabularInline):
    model = VendorMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Vendor)
class VendorAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "contact_email", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [VendorMembershipInline]


@admin.register(VendorMembership)
class VendorMembershipAdmin(admin.ModelAdmin):
    list_display = ["vendor", "user", "role"]
    list_filter = ["role", "vendor"]
    search_fields = ["vendor__name", "user__username", "user__email"]
    autocomplete_fields = ["user", "vendor"]


@admin.register(HostProduct)
class HostProductAdmin(admin.ModelAdmin):
    list_display = ["key", "name"]
    search_fields = ["key", "name"]


@admin.register(Scope)
class ScopeAdmin(admin.ModelAdmin):
    list_display = ["name", "sensitivity", "description"]
    list_filter = ["sensitivity"]
    search_fields = ["name", "description"]
    filter_horizontal = ["requires"]


# What staff may edit on a listing's page: saved through marketplace.services.listing_update (audited).
LISTING_EDITABLE = [
    "name",
    "summary",
    "pricing",
    "visibility",
    "descriptor_url",
    "description",
    "support_url",
    "documentation_url",
    "privacy_url",
    "eula_url",
]
LISTING_EDITABLE_SETS = ["host_products", "allowed_sites", "categories"]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "key"]
    search_fields = ["name", "key"]


@admin.register(ListingInvitation)
class ListingInvitationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: vendors make invitations on the portal, site admins redeem them (both audited)."""

    list_display = ["listing", "prefix", "created_at", "expires_at", "redeemed_at", "redeemed_site"]
    list_select_related = ["listing", "redeemed_site"]
    exclude = ["digest"]


@admin.register(ListingScreenshot)
class ListingScreenshotAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: vendors upload screenshots on the portal (checked with Pillow, audited)."""

    list_display = ["listing", "position", "caption", "image"]
    list_select_related = ["listing"]


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    """Vendors create listings on the portal; staff correct the descriptive fields here, through the
    service (so the change is audited). Key, vendor, scheme and archiving are not edited from a form."""

    list_display = ["key", "name", "vendor", "scheme", "pricing", "visibility", "archived_at"]
    list_filter = ["scheme", "pricing", "visibility", "vendor"]
    search_fields = ["key", "name", "vendor__name"]
    filter_horizontal = ["host_products", "allowed_sites", "categories"]
    readonly_fields = ["key", "vendor", "scheme", "archived_at", "created_at", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # versions and installations refer to it: owners archive it instead

    def save_model(self, request: HttpRequest, obj: Listing, form: Any, change: bool) -> None:
        changed = set(form.changed_data)
        data = {name: form.cleaned_data[name] for name in LISTING_EDITABLE if name in changed}
        sets = {name: form.cleaned_data[name] for name in LISTING_EDITABLE_SETS if name in changed}
        original = Listing.objects.get(pk=obj.pk)
        try:
            services.listing_update(listing=original, actor=request.user, **data, **sets)
        except ApplicationError as exc:
            self.message_user(request, f"Nothing changed: {exc.message}", messages.ERROR)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """The service saved the host products and allowed sites already; the inline formsets (none) stay."""
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


@admin.register(VendorInvitation)
class VendorInvitationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Staff see invitations; owners make and revoke them on their vendor's team page."""

    list_display = ["email", "vendor", "role", "created_at", "expires_at", "accepted_at", "revoked_at"]
    list_filter = ["role"]
    search_fields = ["email", "vendor__name"]
    exclude = ["digest"]
