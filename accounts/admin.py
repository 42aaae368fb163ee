from django.contrib import admin

from accounts.models import Profile, UserToken
from core.admin import ReadOnlyAdminMixin


@admin.register(Profile)
class ProfileAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["user", "time_zone", "notification_email"]
    search_fields = ["user__username", "user__email"]


@admin.register(UserToken)
class UserTokenAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Staff see tokens (never their secret); people make and revoke their own on /accounts/tokens/."""

    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    search_fields = ["user__username", "name", "prefix"]
