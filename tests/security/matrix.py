"""The authorization matrix's table and machinery: who may read (GET) and who may change
(POST, PUT, PATCH, DELETE) each route, and how a route's ids are filled with the victim
tenant's objects.

The table is data: a default per namespace (portal/, upgrades/, admin/, the API by
path) and a few overrides by route name. A new route is covered without editing
anything; if its namespace's default is wrong for it, the matrix fails and the
override is written here, on purpose.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace

from django.apps import apps
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver

from marketplace.models import VendorMembership
from reviews.services import REVIEWER_PERMISSIONS
from tests.security.world import Tenant

# The roles every route is tried with (people sign in; the API roles also send tokens).
ROLES = (
    "anonymous",
    "vendor",  # a member (owner) of the victim's vendor
    "other_vendor",  # an owner of the other tenant's vendor
    "reviewer",  # marketplace staff with the review permission
    "conflicted_reviewer",  # a reviewer who is also a developer at the victim's vendor
    "site_admin",  # an admin of the victim's sites
    "other_site_admin",  # an admin of the other tenant's site
    "superuser",
)
TOKEN_ROLES = ("vendor_token", "other_vendor_token", "site_token", "other_site_token")

ANYONE = frozenset(ROLES + TOKEN_ROLES)
SIGNED_IN = frozenset(ROLES) - {"anonymous"}
STAFF = frozenset({"reviewer", "conflicted_reviewer", "superuser"})
REVIEWERS = frozenset({"reviewer", "conflicted_reviewer"})
VENDOR = frozenset({"vendor", "conflicted_reviewer"})  # the people of the victim's vendor
VENDOR_API = VENDOR | {"vendor_token"}
SITE = frozenset({"site_admin"})
SITE_API = SITE | {"site_token"}
NOBODY: frozenset[str] = frozenset()

# Which roles must never see a tenant's private text, whatever the status of the answer.
MAY_NOT_SEE_VENDOR_PRIVATE = frozenset(
    {
        "anonymous",
        "other_vendor",
        "site_admin",
        "other_site_admin",
        "other_vendor_token",
        "site_token",
        "other_site_token",
    }
)
MAY_NOT_SEE_SITE_PRIVATE = frozenset(
    {"anonymous", "other_vendor", "other_site_admin", "vendor_token", "other_vendor_token", "other_site_token"}
)


@dataclass(frozen=True)
class Access:
    read: frozenset[str]
    change: frozenset[str]
    # Sign-in and sign-out pages redirect (to sign in, or onwards): that is their answer, not a refusal.
    redirects: bool = False
    # The URL carries its own authority (a signed link): whoever holds it sees what the link is about.
    link: bool = False


# --- the table ------------------------------------------------------------------

NAMESPACE_DEFAULTS = {
    # The vendor portal: the vendor's own people, nobody else (staff included: they review in the admin).
    "portal": Access(read=VENDOR, change=VENDOR),
    # The site admin's pages: staff may see every site, only the site's own admins decide.
    "upgrades": Access(read=SITE | STAFF, change=SITE),
    # The Django admin: the superuser; reviewers only where an override says so.
    "admin": Access(read=frozenset({"superuser"}), change=frozenset({"superuser"})),
    # A person's own pages beside allauth's (profile, API tokens): every signed-in person, their own data.
    "accounts": Access(read=SIGNED_IN, change=SIGNED_IN),
    # Invitation links carry their own authority; accepting takes a signed-in person with the invited
    # address, and the world invites addresses no role has: nobody accepts.
    "invitations": Access(read=ANYONE, change=NOBODY, link=True),
    # The storefront's catalogue is public; installing is a site admin's (the override below).
    "storefront": Access(read=ANYONE, change=ANYONE),
    # Unnamespaced pages: nobody until the table says otherwise.
    "": Access(read=NOBODY, change=NOBODY),
}

# API operations by path prefix (the longest prefix wins).
API_DEFAULTS = {
    "/api/v1/versions": Access(read=VENDOR_API, change=VENDOR_API),
    "/api/v1/listings": Access(read=VENDOR_API, change=VENDOR_API),
    "/api/v1/rollouts": Access(read=VENDOR_API, change=VENDOR_API),
    "/api/v1/descriptors": Access(read=VENDOR_API, change=VENDOR_API),
    "/api/v1/sites": Access(read=SITE_API | STAFF, change=SITE_API),
    "/api/v1/upgrade-requests": Access(read=SITE_API | STAFF, change=SITE_API),
    "/api/v1/beta-links": Access(read=SIGNED_IN, change=SIGNED_IN),
    # Private testing: a version's members (people) install it on the sites they administer.
    "/api/v1/testing": Access(read=SITE, change=SITE),
    "/api/v1/webhooks": Access(read=VENDOR_API, change=VENDOR_API),
    "/api/v1/deliveries": Access(read=VENDOR_API, change=VENDOR_API),
    # The storefront's catalogue: public.
    "/api/v1/apps": Access(read=ANYONE, change=NOBODY),
    # Reviewer metrics: review leads (staff; no role here but the superuser).
    "/api/v1/reviews": Access(read=frozenset({"superuser"}), change=NOBODY),
    # Downstream portals with a mirror token only.
    "/api/v1/mirror": Access(read=NOBODY, change=NOBODY),
}

# Collections hold no victim id: every caller of the right kind gets an answer, filtered to its own
# objects (the private-text check catches a leak). Deciding operations without an id in the path
# take their object from the body, and an empty body changes nothing.
OWN_COLLECTION_VENDOR = Access(read=SIGNED_IN | {"vendor_token", "other_vendor_token"}, change=NOBODY)
PUBLIC = Access(read=ANYONE, change=ANYONE)
SIGN_IN_PAGES = Access(read=ANYONE, change=ANYONE, redirects=True)
ADMIN_SIGN_IN = Access(
    read=ANYONE - {"vendor", "other_vendor", "site_admin", "other_site_admin"},
    change=ANYONE - {"vendor", "other_vendor", "site_admin", "other_site_admin"},
    redirects=True,
)
# allauth's pages for a signed-in person about themselves (addresses, password, two-factor, sessions).
OWN_ACCOUNT = Access(read=SIGNED_IN, change=SIGNED_IN)

OVERRIDES = {
    # Project-level pages.
    "home": PUBLIC,
    "healthz": PUBLIC,
    "readyz": PUBLIC,
    "api-schema": PUBLIC,
    "api-docs": PUBLIC,
    "api-redoc": PUBLIC,
    # /favicon.ico redirects everyone to the static icon.
    "favicon": Access(read=ANYONE, change=ANYONE, redirects=True),
    "login": SIGN_IN_PAGES,
    "logout": SIGN_IN_PAGES,
    # The admin's sign-in (allauth's secure_admin_login): a signed-in person without staff status is refused.
    "admin:login": ADMIN_SIGN_IN,
    "admin/login/": ADMIN_SIGN_IN,  # the same page behind the sign-in rate limit
    "admin:logout": SIGN_IN_PAGES,
    # django-allauth: signing in, signing up, confirming an address and resetting a password are public.
    "account_login": SIGN_IN_PAGES,
    "account_logout": SIGN_IN_PAGES,
    "account_signup": SIGN_IN_PAGES,
    "account_inactive": SIGN_IN_PAGES,
    "account_confirm_login_code": SIGN_IN_PAGES,
    "account_email_verification_sent": SIGN_IN_PAGES,
    # A confirmation key no address has: the page says so; confirming it (POST) is "not found".
    "account_confirm_email": Access(read=ANYONE, change=NOBODY, redirects=True),
    "account_reset_password": SIGN_IN_PAGES,
    "account_reset_password_done": SIGN_IN_PAGES,
    "account_reset_password_from_key": SIGN_IN_PAGES,
    "account_reset_password_from_key_done": SIGN_IN_PAGES,
    "mfa_authenticate": SIGN_IN_PAGES,
    "account_email": OWN_ACCOUNT,
    "account_change_password": OWN_ACCOUNT,
    "account_set_password": OWN_ACCOUNT,
    "account_reauthenticate": OWN_ACCOUNT,
    "account_request_reauthentication_code": OWN_ACCOUNT,
    "account_confirm_reauthentication_code": OWN_ACCOUNT,
    "mfa_index": OWN_ACCOUNT,
    "mfa_reauthenticate": OWN_ACCOUNT,
    "mfa_activate_totp": OWN_ACCOUNT,
    "mfa_generate_recovery_codes": OWN_ACCOUNT,
    "mfa_list_webauthn": OWN_ACCOUNT,
    "mfa_add_webauthn": OWN_ACCOUNT,
    "mfa_reauthenticate_webauthn": OWN_ACCOUNT,
    "usersessions_list": OWN_ACCOUNT,
    # Pages about an authenticator the person has: the world's people have none, "not found" to everyone.
    "mfa_deactivate_totp": Access(read=NOBODY, change=NOBODY),
    "mfa_view_recovery_codes": Access(read=NOBODY, change=NOBODY),
    "mfa_download_recovery_codes": Access(read=NOBODY, change=NOBODY),
    # A security key by id (the world has none): a signed-in person is first asked to re-authenticate,
    # and no key changes.
    "mfa_remove_webauthn": Access(read=SIGNED_IN, change=NOBODY),
    "mfa_edit_webauthn": Access(read=SIGNED_IN, change=NOBODY),
    # Revoking the victim vendor's personal API token: only its owner.
    "accounts:token-revoke": Access(read=frozenset({"vendor"}), change=frozenset({"vendor"})),
    # Development only: the demo connect listing's descriptor, to every caller; any other key is 404.
    "demo-descriptor": Access(read=NOBODY, change=NOBODY),
    # Development only: the demo app's receiver of callbacks and webhooks.
    "demo-app-callback": Access(read=NOBODY, change=NOBODY),
    "demo-webhook": Access(read=NOBODY, change=NOBODY),
    # The storefront: installing (and redeeming a private listing's invitation) is a site admin's decision.
    "storefront:install": Access(read=SIGNED_IN, change=SITE),
    "storefront:invitation": Access(read=SIGNED_IN, change=SITE),
    # The vendor's team: its people see it, only owners invite, revoke, change roles and remove members.
    "portal:vendor-invite": Access(read=VENDOR, change=frozenset({"vendor"})),
    "portal:vendor-invitation-revoke": Access(read=VENDOR, change=frozenset({"vendor"})),
    "portal:member-role": Access(read=VENDOR, change=frozenset({"vendor"})),
    "portal:member-remove": Access(read=VENDOR, change=frozenset({"vendor"})),
    # What the app answered to an installation's callbacks: the site's own admins only (not staff).
    "upgrades:installation-deliveries": Access(read=SITE, change=SITE),
    # Vendor onboarding: any signed-in person may start a vendor.
    "portal:vendor-create": Access(read=SIGNED_IN, change=SIGNED_IN),
    # Site onboarding: any signed-in person may register a site (it becomes theirs).
    "upgrades:site-register": Access(read=SIGNED_IN, change=SIGNED_IN),
    # Vendor pages without a victim id: every signed-in person gets their own (or an empty) page.
    "portal:dashboard": Access(read=SIGNED_IN, change=SIGNED_IN),
    # Release controls (issue #16 items 2, 4): the vendor's people (any role) re-release and schedule.
    "portal:version-rerelease": Access(read=VENDOR, change=VENDOR),
    "portal:version-schedule": Access(read=VENDOR, change=VENDOR),
    "portal:version-unschedule": Access(read=VENDOR, change=VENDOR),
    "POST /api/v1/versions/{id}/rerelease": Access(read=VENDOR_API, change=VENDOR_API),
    "PUT /api/v1/versions/{id}/schedule": Access(read=VENDOR_API, change=VENDOR_API),
    "DELETE /api/v1/versions/{id}/schedule": Access(read=VENDOR_API, change=VENDOR_API),
    # Notification preferences (issue #16 item 5): a person's own, never a token's site; the e-mailed
    # unsubscribe link carries its own authority (a signed address and kind).
    "upgrades:unsubscribe": Access(read=ANYONE, change=ANYONE, link=True),
    "upgrades:site-notifications": Access(read=SITE | STAFF, change=SITE),
    "accounts:notifications": Access(read=SIGNED_IN, change=SIGNED_IN),
    "GET /api/v1/notifications": Access(read=SIGNED_IN | {"vendor_token", "other_vendor_token"}, change=NOBODY),
    "PUT /api/v1/notifications": Access(read=NOBODY, change=SIGNED_IN | {"vendor_token", "other_vendor_token"}),
    "GET /api/v1/sites/{id}/notifications": Access(read=SITE, change=NOBODY),
    "PUT /api/v1/sites/{id}/notifications": Access(read=NOBODY, change=SITE),
    "portal:listing-create": Access(read=SIGNED_IN, change=SIGNED_IN),
    # The site admin's list of their own sites.
    "upgrades:sites": Access(read=SIGNED_IN, change=SIGNED_IN),
    # Links carry their own authority (a signed token for one recipient or one beta version).
    "upgrades:consent": Access(read=ANYONE, change=ANYONE, link=True),
    # Anyone with a beta link sees the version; installing it takes a signed-in admin of a site.
    "upgrades:beta-link": Access(read=ANYONE, change=SIGNED_IN, link=True),
    # Archiving takes an owner of the vendor (the conflicted reviewer is a developer there).
    # The poll panel's self-update after "Poll now" (read-only JSON): the listing's vendor only.
    "portal:listing-polls-live": Access(read=VENDOR, change=VENDOR),
    "portal:listing-archive": Access(read=VENDOR, change=frozenset({"vendor"})),
    "portal:listing-unarchive": Access(read=VENDOR, change=frozenset({"vendor"})),
    # Private testing: only the version's members (the victim's site admin) see and install it.
    "upgrades:tested-version": Access(read=SITE, change=SITE),
    # The vendor's rollout pages live under upgrades/ but belong to the vendor.
    "upgrades:listing-rollouts": Access(read=VENDOR, change=VENDOR),
    "upgrades:rollout-halt": Access(read=VENDOR, change=VENDOR),
    "upgrades:rollout-resume": Access(read=VENDOR, change=VENDOR),
    # Issue #16: advancing a staged rollout is the vendor's; publishing in stages, yanking and un-yanking a
    # version too (staff yank in the admin, through the Version changelist's actions).
    "upgrades:rollout-advance": Access(read=VENDOR, change=VENDOR),
    "portal:version-publish-staged": Access(read=VENDOR, change=VENDOR),
    "portal:version-yank": Access(read=VENDOR, change=VENDOR),
    "portal:version-unyank": Access(read=VENDOR, change=VENDOR),
    "POST /api/v1/rollouts/{id}/advance": Access(read=VENDOR_API, change=VENDOR_API),
    "POST /api/v1/versions/{id}/publish-in-stages": Access(read=VENDOR_API, change=VENDOR_API),
    "POST /api/v1/versions/{id}/yank": Access(read=VENDOR_API, change=VENDOR_API),
    "POST /api/v1/versions/{id}/unyank": Access(read=VENDOR_API, change=VENDOR_API),
    # A listing's analytics (page and API): the listing's vendor only, people or tokens.
    "portal:listing-analytics": Access(read=VENDOR, change=VENDOR),
    "GET /api/v1/listings/{key}/analytics": Access(read=VENDOR_API, change=NOBODY),
    # The admin's front door and shared pieces: every staff member.
    "admin:index": Access(read=STAFF, change=STAFF),
    "admin:jsi18n": Access(read=STAFF, change=STAFF),
    "admin:password_change": Access(read=STAFF, change=STAFF),
    "admin:password_change_done": Access(read=STAFF, change=STAFF),
    # Autocomplete answers only a registered field's query (403 to everyone without one); sites have
    # no public page, so "view on site" is 404 for everyone.
    "admin:autocomplete": Access(read=NOBODY, change=NOBODY),
    "admin:view_on_site": Access(read=NOBODY, change=NOBODY),
    "admin:app_list": Access(read=STAFF, change=STAFF),  # the reviews app: reviewers see its queue
    "admin:catch_all": Access(read=NOBODY, change=NOBODY),  # an unknown admin page is 404 (or sign in)
    # The reviewer workspace: reviewers read the queue; nobody decides on their own vendor's version.
    "admin:reviews_reviewqueueversion_changelist": Access(read=STAFF, change=REVIEWERS - VENDOR | {"superuser"}),
    # The queue's form is read-only for everyone: decisions are its buttons.
    "admin:reviews_reviewqueueversion_change": Access(read=STAFF, change=NOBODY),
    "admin:reviews_reviewqueueversion_history": Access(read=STAFF, change=REVIEWERS - VENDOR | {"superuser"}),
    "admin:reviews_reviewqueueversion_start_review": Access(read=STAFF, change=REVIEWERS - VENDOR | {"superuser"}),
    "admin:reviews_reviewqueueversion_approve": Access(read=STAFF, change=REVIEWERS - VENDOR | {"superuser"}),
    "admin:reviews_reviewqueueversion_reject": Access(read=STAFF, change=REVIEWERS - VENDOR | {"superuser"}),
    # Withdrawing a submission is not a review: the vendor's own people may (as in the portal).
    "admin:reviews_reviewqueueversion_cancel": Access(read=STAFF, change=STAFF),
    "admin:reviews_reviewqueueversion_object": Access(read=STAFF, change=REVIEWERS - VENDOR | {"superuser"}),
    # Asking the vendor a question is a review step; private notes are any reviewer's except on their
    # own vendor (vendors never see them); assigning and the metrics are review leads' (no role here but
    # the superuser).
    "admin:reviews_reviewqueueversion_ask": Access(read=STAFF, change=REVIEWERS - VENDOR | {"superuser"}),
    "admin:reviews_reviewqueueversion_note": Access(read=STAFF, change=REVIEWERS - VENDOR | {"superuser"}),
    "admin:reviews_reviewqueueversion_assign": Access(read=STAFF, change=frozenset({"superuser"})),
    "admin:reviews_reviewqueueversion_metrics": Access(read=frozenset({"superuser"}), change=frozenset({"superuser"})),
    # API collections (filtered to the caller's own objects).
    "GET /api/v1/versions": OWN_COLLECTION_VENDOR,
    "GET /api/v1/listings": OWN_COLLECTION_VENDOR,
    "POST /api/v1/versions": Access(read=NOBODY, change=SIGNED_IN | {"vendor_token", "other_vendor_token"}),
    "POST /api/v1/listings": Access(read=NOBODY, change=SIGNED_IN | {"vendor_token", "other_vendor_token"}),
    "POST /api/v1/descriptors/diff": Access(read=NOBODY, change=SIGNED_IN | {"vendor_token", "other_vendor_token"}),
    # Site tokens read a site's updates, installations and migrations; decisions are people's (the site's admins).
    "GET /api/v1/upgrade-requests": Access(read=SIGNED_IN | {"vendor_token", "other_vendor_token"}, change=NOBODY),
    "POST /api/v1/upgrade-requests/{id}/approve": Access(read=NOBODY, change=SITE),
    "POST /api/v1/upgrade-requests/{id}/reject": Access(read=NOBODY, change=SITE),
    "POST /api/v1/sites/{id}/installations/{installation_pk}/upgrade": Access(read=NOBODY, change=SITE),
    "POST /api/v1/sites/{id}/migration-offers/{offer_pk}/accept": Access(read=NOBODY, change=SITE),
    "POST /api/v1/sites/{id}/migration-offers/{offer_pk}/keep": Access(read=NOBODY, change=SITE),
    # The migration is on the customer's other site: the token of the first site is refused there.
    "GET /api/v1/sites/{id}/migrations": Access(read=SITE | STAFF, change=NOBODY),
    "POST /api/v1/sites/{id}/migrations": Access(read=NOBODY, change=SITE),
    "GET /api/v1/sites/{id}/migrations/{migration_pk}/offers": Access(read=SITE | STAFF, change=NOBODY),
    "POST /api/v1/beta-links/install": Access(read=NOBODY, change=SIGNED_IN),
    # Installing, uninstalling, disabling and enabling are decisions: a signed-in admin of the site, no token.
    "POST /api/v1/sites/{id}/installations": Access(read=NOBODY, change=SITE),
    "DELETE /api/v1/sites/{id}/installations/{installation_pk}": Access(read=NOBODY, change=SITE),
    "POST /api/v1/sites/{id}/installations/{installation_pk}/disable": Access(read=NOBODY, change=SITE),
    "POST /api/v1/sites/{id}/installations/{installation_pk}/enable": Access(read=NOBODY, change=SITE),
    "GET /api/v1/testing/versions": Access(read=SIGNED_IN | {"vendor_token", "other_vendor_token"}, change=NOBODY),
    "GET /api/v1/testing": Access(read=SIGNED_IN | {"vendor_token", "other_vendor_token"}, change=NOBODY),
}


def access_for(namespace: str, name: str, *, method: str = "", path: str = "") -> Access:
    if method:
        key = f"{method} {path}"
        if key in OVERRIDES:
            return OVERRIDES[key]
        prefix = max((p for p in API_DEFAULTS if path.startswith(p)), key=len, default=None)
        assert prefix, f"no default for the API path {path}: add it to API_DEFAULTS"
        return API_DEFAULTS[prefix]
    full = f"{namespace}:{name}" if namespace else name
    if full in OVERRIDES:
        return OVERRIDES[full]
    if namespace == "admin":
        return _admin_access(name)
    return NAMESPACE_DEFAULTS[namespace]


def _admin_access(name: str) -> Access:
    """A model admin's pages: the superuser reads; changes only where the admin class allows any.

    A read-only admin (core.admin.ReadOnlyAdminMixin) refuses every add, change and delete even
    to the superuser: the rows change only through services.
    """
    default = NAMESPACE_DEFAULTS["admin"]
    match = re.match(r"(\w+?)_(\w+?)_(changelist|add|change|delete|history|object)$", name)
    if not match:
        return default
    model_admin = next(
        (ma for m, ma in admin.site._registry.items() if (m._meta.app_label, m._meta.model_name) == match.group(1, 2)),
        None,
    )
    if match[3] == "object":
        # The bare object URL only redirects staff to the change page (which checks permissions).
        return Access(read=STAFF, change=STAFF)
    if model_admin is None:
        return default
    # Reviewers read what their group may view (reviews.services.REVIEWER_PERMISSIONS), nothing more.
    readers = default.read | (REVIEWERS if ("view_" + match[2]) in REVIEWER_VIEWS.get(match[1], ()) else NOBODY)
    request = RequestFactory().get("/admin/")
    request.user = SimpleNamespace(is_active=True, is_staff=True, is_superuser=True, has_perm=lambda *a: True)
    may_write = {
        "add": model_admin.has_add_permission(request),
        "delete": model_admin.has_delete_permission(request),
        "change": model_admin.has_change_permission(request),
        "changelist": model_admin.has_change_permission(request),
    }.get(match[3], True)
    if match[3] in ("add", "delete"):
        writers = default.change if may_write else NOBODY
        return Access(read=writers, change=writers)
    return Access(read=readers, change=default.change if may_write else NOBODY)


REVIEWER_VIEWS: dict[str, set[str]] = {}
for _app, _codename in REVIEWER_PERMISSIONS:
    REVIEWER_VIEWS.setdefault(_app, set()).add(_codename)

# Pages that take their object from the query string: the victim's, of course.
QUERIES = {
    "portal:version-check-number": "?listing={key}&number=3.0.0",
    "portal:version-preview": "?listing={key}&number=3.0.0",
}


# --- routes ------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    namespace: str
    name: str
    route: str  # the pattern as written, e.g. "portal/versions/<int:pk>/"


def page_routes() -> Iterator[Route]:
    """Every URL pattern the resolver knows, except the API (walked from the OpenAPI schema)."""

    def walk(patterns, prefix: str, namespace: str) -> Iterator[Route]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                ns = pattern.namespace or namespace
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
            elif isinstance(pattern, URLPattern):
                route = prefix + str(pattern.pattern)
                yield Route(namespace, pattern.name or _unnamed(route), route)

    return (r for r in walk(get_resolver().url_patterns, "", "") if not r.route.startswith("api/v1/"))


def api_routes() -> list[str]:
    """The resolver's API routes, in the schema's spelling ({id} for pk, {name} otherwise)."""

    def walk(patterns, prefix: str) -> Iterator[str]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern)

    return ["/" + r for r in walk(get_resolver().url_patterns, "") if r.startswith("api/v1/")]


def route_shape(route: str) -> str:
    """A route with every placeholder made the same, to match resolver routes to schema paths."""
    return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", route).rstrip("/")


def _unnamed(route: str) -> str:
    if route.endswith("(?P<url>.*)$"):
        return "catch_all"
    match = re.match(r"admin/(\w+)/(\w+)/<path:object_id>/$", route)
    if match:
        return f"{match[1]}_{match[2]}_object"
    return route


# --- filling a route with the victim's ids -------------------------------------------

PLACEHOLDER = re.compile(r"<(?:\w+:)?(\w+)>|\{(\w+)\}|\(\?P<(\w+)>[^)]*\)")


def fill(route: str, victim: Tenant) -> str:
    """The URL of `route` pointing at the victim tenant's objects."""

    def value(match: re.Match) -> str:
        name = match[1] or match[2] or match[3]
        before = route[: match.start()].rstrip("/").rsplit("/", 1)[-1]
        return str(_value(name, before, route, victim))

    url = PLACEHOLDER.sub(value, route).replace("^", "").replace("$", "")
    return url if url.startswith("/") else "/" + url


def path_values(route: str, victim: Tenant) -> dict[str, object]:
    """The victim's ids for each placeholder of `route` (e.g. an OpenAPI path), by name."""
    values = {}
    for match in PLACEHOLDER.finditer(route):
        name = match[1] or match[2] or match[3]
        before = route[: match.start()].rstrip("/").rsplit("/", 1)[-1]
        values[name] = _value(name, before, route, victim)
    return values


def _value(name: str, before: str, route: str, t: Tenant) -> object:
    simple = {
        "key": t.listing.key,
        "link_pk": t.beta_link.pk,
        "installation_pk": t.installation.pk,
        "migration_pk": t.migration.pk,
        "offer_pk": t.offer.pk,
        "request_id": t.request.pk,
        "slug": t.listing.vendor.slug,
        "token_pk": t.site_token_row.pk,
        "invitation_pk": t.site_invitation.pk,
        "uidb36": "1",
        "event": "installed",
        "path": "no-such-file.png",
        "uidb64": "MQ",
        "app_label": "reviews",
        "url": "no-such-page/",
        "content_type_id": ContentType.objects.get_for_model(type(t.site)).pk,
    }
    if name in simple:
        return simple[name]
    if name == "token":
        if before == "beta":
            return t.beta_token
        if before == "vendor":
            return t.vendor_invitation_token
        if before == "site":
            return t.site_invitation_token
        return t.consent_token if "consent" in route else "set-password"
    if name == "object_id" or (name == "id" and route.startswith("admin/")):
        return _admin_object_id(route, t)
    by_segment = {
        "sites": t.moved_site.pk if "migrat" in route else t.site.pk,
        "versions": t.tested.pk if "testing" in route else t.beta.pk if "beta-links" in route else t.draft.pk,
        "testing": t.tested.pk,
        "installations": t.installation.pk,
        "migrations": t.migration.pk,
        "migration-offers": t.offer.pk,
        "requests": t.request.pk,
        "upgrade-requests": t.request.pk,
        "rollouts": t.rollout.pk,
        "tokens": t.user_token.pk,
        "invitations": t.vendor_invitation.pk,
        "members": t.vendor_membership.pk,
        "webhooks": t.webhook.pk,
        "deliveries": t.delivery.pk,
        "keys": 0,
    }
    if before in by_segment:
        return by_segment[before]
    raise AssertionError(
        f"the matrix does not know what to put for <{name}> in {route}: teach tests/security/matrix.py"
    )


def _admin_object_id(route: str, t: Tenant) -> object:
    match = re.match(r"admin/(?:r/[^/]+/)?(\w+)/(\w+)/", route)
    if not match or route.startswith("admin/r/"):
        return t.site.pk
    model = apps.get_model(match[1], match[2])
    victim_objects = {
        "marketplace.vendor": t.listing.vendor,
        "marketplace.listing": t.listing,
        "marketplace.vendormembership": VendorMembership.objects.filter(vendor_id=t.listing.vendor_id).first(),
        "versions.version": t.submitted,
        "reviews.reviewqueueversion": t.submitted,
        "upgrades.site": t.site,
        "upgrades.installation": t.installation,
        "upgrades.rollout": t.rollout,
        "upgrades.upgraderequest": t.request,
        "upgrades.productmigration": t.migration,
        "upgrades.migrationoffer": t.offer,
        "upgrades.betasharelink": t.beta_link,
        "auth.user": t.vendor_user,
        "marketplace.vendorinvitation": t.vendor_invitation,
        "upgrades.siteinvitation": t.site_invitation,
        "upgrades.sitetoken": t.site_token_row,
        "upgrades.webhookendpoint": t.webhook,
        "upgrades.delivery": t.delivery,
        "accounts.usertoken": t.user_token,
    }
    obj = victim_objects.get(model._meta.label_lower)
    if obj is None:
        obj = model._default_manager.order_by("pk").first()
    # 0 when the world has no row of this kind: the admin answers "no such object" (see NO_ROW).
    return obj.pk if obj is not None else 0


def points_at_no_row(url: str) -> bool:
    """An admin URL filled with 0: the world has no row of that model to point at."""
    return url.startswith("/admin/") and "/0/" in url


# --- what changed -----------------------------------------------------------------


def _fingerprinted_models() -> list[type[models.Model]]:
    return [
        m
        for m in apps.get_models()
        if m._meta.managed and not m._meta.proxy and m._meta.app_label not in ("sessions", "contenttypes")
    ]


def fingerprint() -> str:
    """A digest of every row of every table (sessions aside): equal digests, nothing changed."""
    digest = hashlib.sha256()
    for model in _fingerprinted_models():
        fields = [f.attname for f in model._meta.concrete_fields]
        for row in model._default_manager.order_by("pk").values_list(*fields):
            digest.update(repr(row).encode())
        digest.update(model._meta.label.encode())
    return digest.hexdigest()
