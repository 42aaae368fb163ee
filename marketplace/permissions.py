"""Who may do what: membership and reviewer checks shared by every service."""

from __future__ import annotations

from typing import Any

from core.errors import NotFound, PermissionDenied
from marketplace.models import Vendor, VendorMembership

REVIEW_PERMISSION = "versions.review_version"


def vendor_role(user: Any, vendor_id: int) -> str | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return VendorMembership.objects.filter(vendor_id=vendor_id, user_id=user.pk).values_list("role", flat=True).first()


def is_vendor_member(user: Any, vendor_id: int) -> bool:
    return vendor_role(user, vendor_id) is not None


def require_vendor_member(user: Any, vendor: Vendor | int) -> str:
    """The user's role in the vendor; a non-member gets NotFound (we don't reveal other vendors' data)."""
    vendor_id = vendor if isinstance(vendor, int) else vendor.pk
    role = vendor_role(user, vendor_id)
    if role is None:
        raise NotFound("No such listing or version for your vendor.")
    return role


def require_vendor_owner(user: Any, vendor: Vendor | int) -> None:
    if require_vendor_member(user, vendor) != VendorMembership.Role.OWNER:
        raise PermissionDenied("Only an owner of the vendor may do this.")


def is_reviewer(user: Any) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and user.is_staff
        and user.has_perm(REVIEW_PERMISSION)
    )


def is_staff(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active and user.is_staff)


def require_reviewer_for(user: Any, vendor_id: int) -> None:
    """Reviewers act on versions of vendors they don't belong to (no self-review)."""
    if not is_reviewer(user):
        raise PermissionDenied("Only marketplace reviewers may review versions.")
    if is_vendor_member(user, vendor_id):
        raise PermissionDenied("You belong to this version's vendor, so you may not review it.")


def require_vendor_member_or_staff(user: Any, vendor_id: int) -> None:
    if is_staff(user):
        return
    require_vendor_member(user, vendor_id)
