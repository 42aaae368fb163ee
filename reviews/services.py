"""Writes of the reviewer workspace: the Reviewers group.

The review transitions themselves (start review, approve, reject, cancel) are
versions.services; the admin calls those. The vendor's decision e-mail is
reviews/emails.py (versions.hooks enqueues reviews.tasks.send_review_decision_email).
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

REVIEWERS_GROUP = "Reviewers"
# Exactly what a reviewer needs: decide on versions, and read what they decide about.
REVIEWER_PERMISSIONS = (
    ("versions", "review_version"),
    ("versions", "view_version"),
    ("versions", "view_versiontransition"),
    ("reviews", "view_reviewqueueversion"),
    ("marketplace", "view_listing"),
    ("marketplace", "view_vendor"),
    ("marketplace", "view_scope"),
)


def reviewers_group_sync() -> Group:
    """The `Reviewers` group with exactly REVIEWER_PERMISSIONS (the data migration does the same
    on a fresh database; this restores it where tests flushed the tables)."""
    group, _ = Group.objects.get_or_create(name=REVIEWERS_GROUP)
    query = Q(pk__in=[])
    for app_label, codename in REVIEWER_PERMISSIONS:
        query |= Q(content_type__app_label=app_label, codename=codename)
    group.permissions.set(Permission.objects.filter(query))
    return group
