from django.contrib import admin

from upgrades.models import Site, SiteAdmin


class SiteAdminInline(admin.TabularInline):
    model = SiteAdmin
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Site)
class SiteAdminPage(admin.ModelAdmin):
    list_display = ["name", "host_product", "host_version", "time_zone", "auto_update", "sandbox_vendor"]
    list_filter = ["host_product", "auto_update"]
    search_fields = ["name"]
    inlines = [SiteAdminInline]
