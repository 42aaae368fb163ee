"""Customer sites (tenants) and what is installed on them."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models


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


class SiteAdmin(models.Model):
    """Who may approve upgrades for a site: a user, or just an e-mail address."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="site_admins")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)
    email = models.EmailField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "email"], name="uniq_site_admin_email")]

    def __str__(self) -> str:
        return f"{self.email} ({self.site})"
