"""Writes on the catalogue: vendors, memberships, listings, scopes."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from accounts.invitations import invitation_link_token, invitation_max_age, invitation_secret
from accounts.permissions import invitation_check_open, require_verified_email
from accounts.selectors import invitation_from_link
from core.emails import send_email_once
from core.errors import ApplicationError, Conflict, NotFound
from core.services import audit_record
from marketplace import emails, tasks
from marketplace.images import ICON, SCREENSHOT, clean_image
from marketplace.models import (
    LISTING_KEY_RE,
    LISTING_KEY_RULE,
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
from marketplace.permissions import require_vendor_member, require_vendor_member_or_staff, require_vendor_owner
from marketplace.schemes import CONNECT, SCHEMES
from marketplace.scopes import guess_sensitivity, normalise_scope, normalise_scopes

User = get_user_model()

# A listing's "state" in its audit rows (the table has archived_at, not a state column).
LISTING_ACTIVE, LISTING_ARCHIVED = "active", "archived"


def _listing_state(listing: Listing) -> str:
    return LISTING_ARCHIVED if listing.archived_at is not None else LISTING_ACTIVE


def vendor_create(*, name: str, owner: Any, contact_email: str = "") -> Vendor:
    name = (name or "").strip()
    if not name:
        raise ApplicationError("Vendor name is required.", field="name")
    slug = slugify(name)[:60] or "vendor"
    if Vendor.objects.filter(name__iexact=name).exists() or Vendor.objects.filter(slug=slug).exists():
        raise ApplicationError(f"A vendor named {name!r} already exists.", field="name")
    with transaction.atomic():
        vendor = Vendor.objects.create(name=name, slug=slug, contact_email=contact_email)
        VendorMembership.objects.create(vendor=vendor, user=owner, role=VendorMembership.Role.OWNER)
    return vendor


def vendor_member_add(*, vendor: Vendor, user: Any, role: str = VendorMembership.Role.DEVELOPER) -> VendorMembership:
    if role not in VendorMembership.Role.values:
        raise ApplicationError("Role must be 'owner' or 'developer'.", field="role")
    membership, _ = VendorMembership.objects.update_or_create(vendor=vendor, user=user, defaults={"role": role})
    return membership


def clean_listing_key(key: Any) -> str:
    key = (key or "").strip() if isinstance(key, str) else ""
    if not re.match(LISTING_KEY_RE, key):
        raise ApplicationError(f"Key {key!r} is invalid: it {LISTING_KEY_RULE}.", field="key")
    return key


def clean_descriptor_url(url: str, *, scheme: str) -> str:
    url = (url or "").strip()
    if scheme == CONNECT and not url:
        raise ApplicationError("A connect listing needs the descriptor URL the portal polls.", field="descriptor_url")
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ApplicationError(
            "Descriptor URL must be an http:// or https:// address with a host name.", field="descriptor_url"
        )
    if parts.username or parts.password:
        raise ApplicationError("Descriptor URL must not contain a user name or password.", field="descriptor_url")
    if len(url) > 500:
        raise ApplicationError("Descriptor URL must be at most 500 characters.", field="descriptor_url")
    return url


LINK_FIELDS = ("support_url", "documentation_url", "privacy_url", "eula_url")
DESCRIPTION_MAX = 20_000
# Raw HTML in a description: refused when written (and the storefront sanitises what it renders anyway).
_HTML_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>")


def clean_description(raw: Any) -> str:
    """A listing's long description: Markdown, at most 20,000 characters, no HTML tags."""
    text = (raw or "").strip() if isinstance(raw, str) else None
    if text is None:
        raise ApplicationError("Description must be text (Markdown).", field="description")
    if len(text) > DESCRIPTION_MAX:
        raise ApplicationError(
            f"Description must be at most {DESCRIPTION_MAX:,} characters (it has {len(text):,}).", field="description"
        )
    tag = _HTML_TAG.search(text)
    if tag:
        raise ApplicationError(
            f"Description is Markdown: HTML tags are not allowed (found {tag.group(0)[:40]!r}). "
            "Use Markdown for headings, lists, links and emphasis.",
            field="description",
        )
    return text


def clean_link(raw: Any, *, field_name: str) -> str:
    url = (raw or "").strip() if isinstance(raw, str) else ""
    if not url:
        return ""
    label = field_name.replace("_url", "").replace("_", " ")
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise ApplicationError(
            f"The {label} link must be a full http(s) address, for example https://example.com/{label}.",
            field=field_name,
        ) from None
    if len(url) > 500:
        raise ApplicationError(f"The {label} link must be at most 500 characters.", field=field_name)
    return url


def listing_search_refresh(*, listing_ids: Iterable[int] | None = None) -> None:
    """Rebuild the listings' full-text documents (PostgreSQL; SQLite searches without one).

    One UPDATE whatever the number of listings. Weights: the name counts most,
    then the vendor's name and the summary, then the description.
    """
    if connection.vendor != "postgresql":
        return
    sql = (
        "UPDATE marketplace_listing AS l SET search_vector = "
        "setweight(to_tsvector('english', coalesce(l.name, '')), 'A') || "
        "setweight(to_tsvector('english', coalesce(v.name, '')), 'B') || "
        "setweight(to_tsvector('english', coalesce(l.summary, '')), 'B') || "
        "setweight(to_tsvector('english', coalesce(l.description, '')), 'C') "
        "FROM marketplace_vendor AS v WHERE v.id = l.vendor_id"
    )
    params: list[Any] = []
    if listing_ids is not None:
        sql += " AND l.id = ANY(%s)"
        params.append(list(listing_ids))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _allowed_site_ids(allowed_sites: Iterable[Any]) -> list[int]:
    """Sites named for a private listing, by id or row; an id that is no site is refused.
    The site model is reached through the listing's relation (the catalogue imports no app above it)."""
    ids = sorted({getattr(s, "pk", s) for s in allowed_sites})
    Site = Listing._meta.get_field("allowed_sites").related_model
    known = set(Site.objects.filter(pk__in=ids).values_list("pk", flat=True))
    missing = [i for i in ids if i not in known]
    if missing:
        raise ApplicationError(
            f"No site has the id {missing[0]}: check the id with the site's admin; nothing changed.",
            field="allowed_sites",
        )
    return ids


def _listing_fields(data: dict[str, Any], *, current: Listing | None) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    if "name" in data:
        name = (data["name"] or "").strip()
        if not name or len(name) > 120:
            raise ApplicationError("Name is required (at most 120 characters).", field="name")
        cleaned["name"] = name
    if "summary" in data:
        summary = (data["summary"] or "").strip()
        if len(summary) > 255:
            raise ApplicationError("Summary must be at most 255 characters.", field="summary")
        cleaned["summary"] = summary
    if "scheme" in data:
        if data["scheme"] not in SCHEMES:
            raise ApplicationError(f"Scheme must be one of {', '.join(SCHEMES)}.", field="scheme")
        if current is not None and data["scheme"] != current.scheme and current.versions.exists():
            raise ApplicationError("The numbering scheme can't change once the listing has versions.", field="scheme")
        cleaned["scheme"] = data["scheme"]
    if "pricing" in data:
        if data["pricing"] not in Listing.Pricing.values:
            raise ApplicationError("Pricing must be 'free' or 'paid'.", field="pricing")
        cleaned["pricing"] = data["pricing"]
    if "visibility" in data:
        if data["visibility"] not in Listing.Visibility.values:
            raise ApplicationError("Visibility must be 'public' or 'private'.", field="visibility")
        cleaned["visibility"] = data["visibility"]
    if "description" in data:
        cleaned["description"] = clean_description(data["description"])
    for name in LINK_FIELDS:
        if name in data:
            cleaned[name] = clean_link(data[name], field_name=name)
    scheme = cleaned.get("scheme", current.scheme if current else "manual")
    if "descriptor_url" in data or ("scheme" in cleaned and scheme == CONNECT):
        cleaned["descriptor_url"] = clean_descriptor_url(
            data.get("descriptor_url", current.descriptor_url if current else ""), scheme=scheme
        )
    return cleaned


def listing_create(
    *,
    vendor: Vendor,
    actor: Any,
    key: str,
    name: str,
    summary: str = "",
    scheme: str = "manual",
    pricing: str = "free",
    visibility: str = "public",
    descriptor_url: str = "",
    host_products: Iterable[HostProduct] = (),
    allowed_sites: Iterable[Any] = (),
    categories: Iterable[Category] = (),
    **storefront: Any,
) -> Listing:
    if actor is not None:
        require_vendor_member(actor, vendor)
    unknown = set(storefront) - {"description", *LINK_FIELDS}
    if unknown:
        raise TypeError(f"listing_create() got unexpected fields: {', '.join(sorted(unknown))}")
    key = clean_listing_key(key)
    fields = _listing_fields(
        {
            "name": name,
            "summary": summary,
            "scheme": scheme,
            "pricing": pricing,
            "visibility": visibility,
            "descriptor_url": descriptor_url,
            **storefront,
        },
        current=None,
    )
    if Listing.objects.filter(key=key).exists():
        raise ApplicationError(f"Key {key!r} is already taken by another listing.", field="key")
    allowed_sites = _allowed_site_ids(allowed_sites)
    try:
        with transaction.atomic():
            listing = Listing.objects.create(vendor=vendor, key=key, **fields)
            listing.host_products.set(host_products)
            listing.allowed_sites.set(allowed_sites)
            listing.categories.set(categories)
            listing_search_refresh(listing_ids=[listing.pk])
            audit_record(
                actor=actor,
                action="listing.create",
                obj=listing,
                object_repr=listing.key,
                to_state=LISTING_ACTIVE,
                details={"scheme": listing.scheme, "vendor_id": vendor.pk},
            )
    except IntegrityError as exc:
        raise ApplicationError(f"Key {key!r} is already taken by another listing.", field="key") from exc
    return listing


def listing_update(
    *,
    listing: Listing,
    actor: Any,
    host_products: Iterable[HostProduct] | None = None,
    allowed_sites: Iterable[Any] | None = None,
    categories: Iterable[Category] | None = None,
    **data: Any,
) -> Listing:
    if actor is not None:
        # Staff edit listings from the admin (through this service, so the edit is audited).
        require_vendor_member_or_staff(actor, listing.vendor_id)
    if "key" in data and data["key"] != listing.key:
        raise ApplicationError("The key can't change: customers and coordinates (key@version) use it.", field="key")
    data.pop("key", None)
    fields = _listing_fields(data, current=listing)
    with transaction.atomic():
        changes = {
            name: {"from": getattr(listing, name), "to": value}
            for name, value in fields.items()
            if getattr(listing, name) != value
        }
        for name, value in fields.items():
            setattr(listing, name, value)
        listing.save()
        if host_products is not None:
            host_products = list(host_products)
            before = sorted(listing.host_products.values_list("key", flat=True))
            after = sorted(p.key for p in host_products)
            if before != after:
                changes["host_products"] = {"from": before, "to": after}
            listing.host_products.set(host_products)
        if allowed_sites is not None:
            allowed_sites = _allowed_site_ids(allowed_sites)
            before_ids = sorted(listing.allowed_sites.values_list("pk", flat=True))
            after_ids = allowed_sites
            if before_ids != after_ids:
                changes["allowed_sites"] = {"from": before_ids, "to": after_ids}
            listing.allowed_sites.set(allowed_sites)
        if categories is not None:
            categories = list(categories)
            before = sorted(listing.categories.values_list("key", flat=True))
            after = sorted(c.key for c in categories)
            if before != after:
                changes["categories"] = {"from": before, "to": after}
            listing.categories.set(categories)
        listing_search_refresh(listing_ids=[listing.pk])
        if changes:
            state = _listing_state(listing)
            audit_record(
                actor=actor,
                action="listing.update",
                obj=listing,
                object_repr=listing.key,
                from_state=state,
                to_state=state,
                details={"changes": changes},
            )
    return listing


MAX_SCREENSHOTS = 8


def listing_set_icon(*, listing: Listing, actor: Any, upload: Any) -> Listing:
    """A vendor uploads the listing's icon (checked with Pillow first; nothing is stored otherwise)."""
    if actor is not None:
        require_vendor_member_or_staff(actor, listing.vendor_id)
    ext = clean_image(upload, ICON, field="icon")
    with transaction.atomic():
        old = listing.icon.name if listing.icon else ""
        listing.icon.save(f"{listing.key}.{ext}", upload, save=False)
        listing.save(update_fields=["icon", "updated_at"])
        state = _listing_state(listing)
        audit_record(
            actor=actor,
            action="listing.update",
            obj=listing,
            object_repr=listing.key,
            from_state=state,
            to_state=state,
            details={"changes": {"icon": {"from": old, "to": listing.icon.name}}},
        )
    return listing


def listing_add_screenshot(*, listing: Listing, actor: Any, upload: Any, caption: str = "") -> ListingScreenshot:
    if actor is not None:
        require_vendor_member_or_staff(actor, listing.vendor_id)
    caption = (caption or "").strip()
    if len(caption) > 200:
        raise ApplicationError("Caption must be at most 200 characters.", field="caption")
    ext = clean_image(upload, SCREENSHOT, field="screenshot")
    with transaction.atomic():
        count = ListingScreenshot.objects.select_for_update().filter(listing=listing).count()
        if count >= MAX_SCREENSHOTS:
            raise ApplicationError(
                f"A listing shows at most {MAX_SCREENSHOTS} screenshots: remove one first.", field="screenshot"
            )
        shot = ListingScreenshot(listing=listing, caption=caption, position=count)
        shot.image.save(f"{listing.key}-{count + 1}.{ext}", upload, save=False)
        shot.save()
        state = _listing_state(listing)
        audit_record(
            actor=actor,
            action="listing.update",
            obj=listing,
            object_repr=listing.key,
            from_state=state,
            to_state=state,
            details={"changes": {"screenshots": {"added": shot.image.name}}},
        )
    return shot


def _screenshot_of(listing: Listing, screenshot_id: Any) -> ListingScreenshot:
    """One of this listing's screenshots, locked; another listing's id (or garbage) is refused
    with the same message, so a vendor learns nothing about other listings."""
    try:
        pk = int(screenshot_id)
    except (TypeError, ValueError):
        pk = None
    shot = ListingScreenshot.objects.select_for_update().filter(listing=listing, pk=pk).first() if pk else None
    if shot is None:
        raise ApplicationError(
            f"Screenshot: no such screenshot on {listing.name}; nothing changed.", field="screenshot"
        )
    return shot


def listing_screenshot_remove(*, listing: Listing, actor: Any, screenshot_id: Any) -> None:
    """A vendor removes one screenshot; the others close up (positions stay 0..n-1). The file is
    deleted from storage only after commit, so a rolled-back removal keeps its image."""
    if actor is not None:
        require_vendor_member_or_staff(actor, listing.vendor_id)
    with transaction.atomic():
        shot = _screenshot_of(listing, screenshot_id)
        name = shot.image.name
        storage = shot.image.storage
        shot.delete()
        rest = list(ListingScreenshot.objects.select_for_update().filter(listing=listing).order_by("position", "pk"))
        for position, other in enumerate(rest):
            other.position = position
        ListingScreenshot.objects.bulk_update(rest, ["position"])
        state = _listing_state(listing)
        audit_record(
            actor=actor,
            action="listing.update",
            obj=listing,
            object_repr=listing.key,
            from_state=state,
            to_state=state,
            details={"changes": {"screenshots": {"removed": name}}},
        )
        if name:
            transaction.on_commit(partial(storage.delete, name))


def listing_screenshots_reorder(*, listing: Listing, actor: Any, order: Iterable[Any]) -> list[ListingScreenshot]:
    """A vendor puts the listing's screenshots in a new order: `order` names every screenshot of
    this listing exactly once (ids), first shown first."""
    if actor is not None:
        require_vendor_member_or_staff(actor, listing.vendor_id)
    refused = ApplicationError(
        "Screenshot order: list each of this listing's screenshots exactly once; nothing changed.",
        field="screenshots",
    )
    try:
        wanted = [int(pk) for pk in order]
    except (TypeError, ValueError):
        raise refused from None
    with transaction.atomic():
        shots = {s.pk: s for s in ListingScreenshot.objects.select_for_update().filter(listing=listing)}
        if len(wanted) != len(set(wanted)) or set(wanted) != set(shots):
            raise refused
        before = sorted(shots, key=lambda pk: (shots[pk].position, pk))
        if before == wanted:
            return [shots[pk] for pk in wanted]
        for position, pk in enumerate(wanted):
            shots[pk].position = position
        ListingScreenshot.objects.bulk_update(list(shots.values()), ["position"])
        state = _listing_state(listing)
        audit_record(
            actor=actor,
            action="listing.update",
            obj=listing,
            object_repr=listing.key,
            from_state=state,
            to_state=state,
            details={"changes": {"screenshots": {"order": {"from": before, "to": wanted}}}},
        )
    return [shots[pk] for pk in wanted]


def listing_screenshot_move(*, listing: Listing, actor: Any, screenshot_id: Any, step: int) -> None:
    """Moves one screenshot a place earlier (step -1) or later (+1): the portal's buttons."""
    if step not in (-1, 1):
        raise ApplicationError("Screenshot: it moves one place up or down.", field="screenshot")
    with transaction.atomic():
        _screenshot_of(listing, screenshot_id)  # refuses a foreign id before anything else
        ids = list(
            ListingScreenshot.objects.select_for_update()
            .filter(listing=listing)
            .order_by("position", "pk")
            .values_list("pk", flat=True)
        )
        index = ids.index(int(screenshot_id))
        target = index + step
        if 0 <= target < len(ids):
            ids[index], ids[target] = ids[target], ids[index]
            listing_screenshots_reorder(listing=listing, actor=actor, order=ids)


INVITATION_DAYS = 30


def listing_invitation_create(*, listing: Listing, actor: Any) -> tuple[ListingInvitation, str]:
    """A code that opens a private listing to one site (its admin redeems it: upgrades.services).
    The raw code is returned once and never stored."""
    require_vendor_member(actor, listing.vendor)
    if listing.visibility != Listing.Visibility.PRIVATE:
        raise ApplicationError(
            f"{listing.name} is public: every site sees it, no invitation is needed.", field="visibility"
        )
    if listing.archived_at is not None:
        raise ApplicationError(f"{listing.name} is archived: nothing of it can be installed.", field="listing")
    with transaction.atomic():
        invitation, raw = ListingInvitation.issue(
            listing=listing, created_by=actor, expires_at=timezone.now() + timedelta(days=INVITATION_DAYS)
        )
        audit_record(
            actor=actor,
            action="listing_invitation.create",
            obj=invitation,
            object_repr=f"{listing.key} invitation {invitation.prefix}…",
            to_state="open",
            details={"expires_at": invitation.expires_at.isoformat()},
        )
    return invitation, raw


def listing_invitation_revoke(*, listing: Listing, actor: Any, invitation_id: Any) -> ListingInvitation:
    """A vendor withdraws an invitation not yet redeemed: its code stops working at once."""
    require_vendor_member(actor, listing.vendor)
    try:
        pk = int(invitation_id)
    except (TypeError, ValueError):
        pk = None
    with transaction.atomic():
        invitation = (
            ListingInvitation.objects.select_for_update().filter(listing=listing, pk=pk).first() if pk else None
        )
        if invitation is None:
            raise ApplicationError(
                f"Invitation: no such invitation on {listing.name}; nothing changed.", field="invitation"
            )
        if invitation.redeemed_at is not None:
            raise ApplicationError(
                "Invitation: it was already redeemed by a site, so there is nothing to revoke.", field="invitation"
            )
        if invitation.revoked_at is not None:
            return invitation
        invitation.revoke()
        audit_record(
            actor=actor,
            action="listing_invitation.revoke",
            obj=invitation,
            object_repr=f"{listing.key} invitation {invitation.prefix}…",
            from_state="open",
            to_state="revoked",
        )
    return invitation


def _listing_set_archived(*, listing: Listing, actor: Any, archived: bool) -> Listing:
    """Archive or unarchive under the row lock, with its audit row; the same state again changes nothing."""
    require_vendor_owner(actor, listing.vendor_id)
    caller = listing
    with transaction.atomic():
        listing = Listing.objects.select_for_update().get(pk=listing.pk)
        if (listing.archived_at is not None) != archived:
            listing.archived_at = timezone.now() if archived else None
            listing.save(update_fields=["archived_at", "updated_at"])
            audit_record(
                actor=actor,
                action="listing.archive" if archived else "listing.unarchive",
                obj=listing,
                object_repr=listing.key,
                from_state=LISTING_ACTIVE if archived else LISTING_ARCHIVED,
                to_state=LISTING_ARCHIVED if archived else LISTING_ACTIVE,
            )
    caller.archived_at = listing.archived_at
    return listing


def listing_archive(*, listing: Listing, actor: Any) -> Listing:
    """Owners archive a listing (it is never deleted: versions and installations refer to it)."""
    return _listing_set_archived(listing=listing, actor=actor, archived=True)


def listing_unarchive(*, listing: Listing, actor: Any) -> Listing:
    return _listing_set_archived(listing=listing, actor=actor, archived=False)


def scope_create(
    *, name: str, sensitivity: int | None = None, description: str = "", requires: Iterable[str] = ()
) -> Scope:
    """Add (or update) a catalogue scope; `requires` names catalogue scopes an app must also ask for."""
    scope_name = normalise_scope(name, field_name="name")
    level = sensitivity if sensitivity is not None else guess_sensitivity(scope_name)
    required_names = normalise_scopes(requires, field_name="requires")
    if scope_name in required_names:
        raise ApplicationError(f"Scope {scope_name} can't require itself.", field="requires")
    with transaction.atomic():
        required = list(Scope.objects.filter(name__in=required_names))
        unknown = sorted(set(required_names) - {s.name for s in required})
        if unknown:
            raise ApplicationError(
                f"Required scope {unknown[0]} is not in the catalogue: add it first.", field="requires"
            )
        scope, _ = Scope.objects.update_or_create(
            name=scope_name, defaults={"sensitivity": level, "description": description}
        )
        scope.requires.set(required)
    return scope


# --- onboarding: a vendor of one's own, its team and invitations ---------------------------

SLUG_RULE = "lower-case letters, digits and hyphens, 2 to 60 characters, starting with a letter"
SLUG_RE = r"^[a-z][a-z0-9-]{1,59}$"


def vendor_register(*, actor: Any, name: str, slug: str, contact_email: str, support_email: str = "") -> Vendor:
    """A verified user makes a vendor and becomes its owner."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    require_verified_email(actor, action="create a vendor")
    name, slug = (name or "").strip(), (slug or "").strip().lower()
    if not name:
        raise ApplicationError("Vendor name is required.", field="name")
    if len(name) > 120:
        raise ApplicationError("Vendor name: at most 120 characters.", field="name")
    if not re.match(SLUG_RE, slug):
        raise ApplicationError(f"Slug {slug!r} is invalid: use {SLUG_RULE}.", field="slug")
    for field, value, required in (("contact_email", contact_email, True), ("support_email", support_email, False)):
        value = (value or "").strip()
        if not value and required:
            raise ApplicationError("Contact e-mail is required: reviewers write to it.", field=field)
        if value:
            try:
                validate_email(value)
            except ValidationError:
                raise ApplicationError(f"{value!r} is not an e-mail address.", field=field) from None
    if Vendor.objects.filter(name__iexact=name).exists():
        raise ApplicationError(f"A vendor named {name!r} already exists.", field="name")
    if Vendor.objects.filter(slug=slug).exists():
        raise ApplicationError(f"The slug {slug!r} is taken: choose another.", field="slug")
    try:
        with transaction.atomic():
            vendor = Vendor.objects.create(
                name=name, slug=slug, contact_email=contact_email.strip(), support_email=(support_email or "").strip()
            )
            membership = VendorMembership.objects.create(vendor=vendor, user=actor, role=VendorMembership.Role.OWNER)
            audit_record(actor=actor, action="vendor.create", obj=vendor, to_state="active")
            audit_record(actor=actor, action="membership.add", obj=membership, to_state=membership.role)
    except IntegrityError:
        raise ApplicationError(f"A vendor named {name!r} or with slug {slug!r} already exists.", field="name") from None
    return vendor


def _clean_role(role: str) -> str:
    if role not in VendorMembership.Role.values:
        raise ApplicationError("Role must be 'owner' or 'developer'.", field="role")
    return role


def vendor_invitation_create(*, actor: Any, vendor: Vendor, email: str, role: str) -> VendorInvitation:
    """An owner invites an address with a role; the e-mail goes out after commit."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    require_vendor_owner(actor, vendor)
    require_verified_email(actor, action="invite people")
    role = _clean_role(role)
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ApplicationError(f"{email!r} is not an e-mail address.", field="email") from None
    if vendor.users.filter(Q(email__iexact=email) | Q(emailaddress__email__iexact=email)).exists():
        raise ApplicationError(f"{email} already belongs to {vendor.name}.", field="email")
    raw, digest = invitation_secret()
    try:
        with transaction.atomic():
            invitation = VendorInvitation.objects.create(
                vendor=vendor,
                email=email,
                role=role,
                digest=digest,
                invited_by=actor,
                expires_at=timezone.now() + invitation_max_age(),
            )
            audit_record(
                actor=actor,
                action="vendor_invitation.create",
                obj=invitation,
                to_state="pending",
                details={"role": role},
            )
            link_token = invitation_link_token(raw, kind="vendor")
            # Kept on the object for the caller (demo data prints it); only its digest is stored.
            invitation.link_token = link_token
            transaction.on_commit(partial(tasks.send_vendor_invitation.delay, invitation.pk, link_token))
    except IntegrityError:
        raise ApplicationError(
            f"{email} already has an open invitation to {vendor.name}: revoke it first to send a new one.",
            field="email",
        ) from None
    return invitation


def vendor_invitation_send(*, invitation_id: int, link_token: str) -> VendorInvitation | None:
    """E-mail the invitation once (the task's retries never send it twice)."""

    def claim() -> VendorInvitation | None:
        # No join here: PostgreSQL locks no row of an outer join's nullable side (invited_by).
        return (
            VendorInvitation.objects.select_for_update()
            .filter(pk=invitation_id, sent_at__isnull=True, accepted_at__isnull=True, revoked_at__isnull=True)
            .first()
        )

    def mark_sent(invitation: VendorInvitation) -> None:
        invitation.sent_at = timezone.now()
        invitation.save(update_fields=["sent_at"])

    invitation = VendorInvitation.objects.filter(pk=invitation_id).select_related("vendor", "invited_by").first()
    if invitation is None:
        return None
    return send_email_once(
        claim=claim,
        to=[invitation.email],
        subject=f"Join {invitation.vendor.name} on the App Marketplace",
        template="emails/invitation",
        context=emails.vendor_invitation_context(invitation, link_token),
        mark_sent=mark_sent,
    )


def vendor_invitation_get_by_link(*, link_token: str) -> VendorInvitation:
    return invitation_from_link(VendorInvitation.objects.select_related("vendor"), link_token, kind="vendor")


def vendor_invitation_accept(*, user: Any, link_token: str) -> VendorMembership:
    with transaction.atomic():
        invitation = invitation_from_link(
            VendorInvitation.objects.select_for_update(of=("self",)).select_related("vendor"), link_token, kind="vendor"
        )
        vendor = invitation.vendor
        invitation_check_open(invitation, user=user, target=vendor.name)
        if VendorMembership.objects.filter(vendor=vendor, user=user).exists():
            raise Conflict(f"You already belong to {vendor.name}.", field="token")
        membership = VendorMembership.objects.create(vendor=vendor, user=user, role=invitation.role)
        invitation.accepted_at, invitation.accepted_by = timezone.now(), user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        audit_record(
            actor=user, action="vendor_invitation.accept", obj=invitation, from_state="pending", to_state="accepted"
        )
        audit_record(actor=user, action="membership.add", obj=membership, to_state=membership.role)
    return membership


def vendor_invitation_revoke(*, actor: Any, vendor: Vendor, invitation_id: int) -> VendorInvitation:
    with transaction.atomic():
        require_vendor_owner(actor, vendor)
        invitation = VendorInvitation.objects.select_for_update().filter(pk=invitation_id, vendor=vendor).first()
        if invitation is None:
            raise NotFound("No such invitation for this vendor.")
        if invitation.state != "pending":
            raise Conflict(f"This invitation is {invitation.get_state_display().lower()}: there is nothing to revoke.")
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor, action="vendor_invitation.revoke", obj=invitation, from_state="pending", to_state="revoked"
        )
    return invitation


def _owners_after(vendor: Vendor, membership: VendorMembership, new_role: str | None) -> int:
    owners = VendorMembership.objects.select_for_update().filter(vendor=vendor, role=VendorMembership.Role.OWNER)
    count = owners.count()
    if membership.role == VendorMembership.Role.OWNER and new_role != VendorMembership.Role.OWNER:
        count -= 1
    return count


def membership_change_role(*, actor: Any, vendor: Vendor, membership_id: int, role: str) -> VendorMembership:
    role = _clean_role(role)
    with transaction.atomic():
        require_vendor_owner(actor, vendor)
        membership = VendorMembership.objects.select_for_update().filter(pk=membership_id, vendor=vendor).first()
        if membership is None:
            raise NotFound("No such member of this vendor.")
        if membership.role == role:
            return membership
        if _owners_after(vendor, membership, role) < 1:
            raise Conflict("A vendor keeps at least one owner: make someone else an owner first.", field="role")
        old = membership.role
        membership.role = role
        membership.save(update_fields=["role", "updated_at"])
        audit_record(actor=actor, action="membership.change_role", obj=membership, from_state=old, to_state=role)
    return membership


def membership_remove(*, actor: Any, vendor: Vendor, membership_id: int) -> None:
    with transaction.atomic():
        require_vendor_owner(actor, vendor)
        membership = VendorMembership.objects.select_for_update().filter(pk=membership_id, vendor=vendor).first()
        if membership is None:
            raise NotFound("No such member of this vendor.")
        if _owners_after(vendor, membership, None) < 1:
            raise Conflict("A vendor keeps at least one owner: make someone else an owner first.", field="member")
        audit_record(
            actor=actor, action="membership.remove", obj=membership, from_state=membership.role, to_state="removed"
        )
        membership.delete()
