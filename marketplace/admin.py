from django.contrib import admin

from marketplace.models import HostProduct, Listing, Scope, Vendor, VendorMembership


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


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "vendor", "scheme", "pricing", "visibility", "archived_at"]
    list_filter = ["scheme", "pricing", "visibility", "vendor"]
    search_fields = ["key", "name", "vendor__name"]
    autocomplete_fields = ["vendor"]
    filter_horizontal = ["host_products", "allowed_sites"]
    readonly_fields = ["created_at", "updated_at"]
