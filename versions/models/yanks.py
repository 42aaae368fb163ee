"""A yanked version (issue #16): withdrawn by its vendor or staff, with the reason site admins read.

A row of its own rather than columns on Version: a released version is frozen
(versions.models.version), and yanking is not a change of its snapshot. The
row exists while the version is yanked; un-yanking deletes it (both audited).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class VersionYank(models.Model):
    version = models.OneToOneField("versions.Version", on_delete=models.CASCADE, related_name="yank")
    reason = models.TextField(max_length=500)
    yanked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    yanked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"version {self.version_id} yanked"
