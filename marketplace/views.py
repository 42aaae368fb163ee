"""Vendor onboarding pages (mounted in the vendor portal): a new vendor, its team, invitations.

Thin: every rule is marketplace.services'; refusals come back as messages next
to the field (forms) or on the page (core.views.portal_view).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.errors import ApplicationError, NotFound
from core.forms import add_application_error
from core.views import paginate, portal_view, posted
from marketplace import selectors, services
from marketplace.forms import InvitationForm, VendorForm
from marketplace.permissions import vendor_role


@portal_view
def vendor_create(request: HttpRequest) -> HttpResponse:
    form = VendorForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            vendor = services.vendor_register(actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, f"{vendor.name} is created and you are its owner. Invite your team below.")
            return redirect("portal:vendor-team", slug=vendor.slug)
    return render(request, "portal/vendor_form.html", {"form": form}, status=400 if request.method == "POST" else 200)


def _team_page(request: HttpRequest, vendor, *, form: InvitationForm | None = None, status: int = 200) -> HttpResponse:
    team = selectors.vendor_team(vendor=vendor)
    return render(
        request,
        "portal/vendor_team.html",
        {
            "vendor": vendor,
            "role": vendor_role(request.user, vendor.pk),
            "form": form or InvitationForm(),
            **team,
            "members": paginate(request, team["members"], param="members_page", per_page=50),
            "invitations": paginate(
                request, team["invitations"].order_by("-created_at", "-pk"), param="invitations_page"
            ),
        },
        status=status,
    )


@portal_view
def vendor_team(request: HttpRequest, slug: str) -> HttpResponse:
    return _team_page(request, selectors.vendor_get_for_member(user=request.user, slug=slug))


@portal_view
@require_POST
def vendor_invite(request: HttpRequest, slug: str) -> HttpResponse:
    vendor = selectors.vendor_get_for_member(user=request.user, slug=slug)
    form = InvitationForm(request.POST)
    if form.is_valid():
        try:
            invitation = services.vendor_invitation_create(actor=request.user, vendor=vendor, **form.cleaned_data)
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(
                request, f"Invitation sent to {invitation.email} ({invitation.get_role_display().lower()})."
            )
            return redirect("portal:vendor-team", slug=slug)
    return _team_page(request, vendor, form=form, status=400)


@portal_view
@require_POST
def vendor_invitation_revoke(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    vendor = selectors.vendor_get_for_member(user=request.user, slug=slug)
    invitation = services.vendor_invitation_revoke(actor=request.user, vendor=vendor, invitation_id=pk)
    messages.success(request, f"The invitation to {invitation.email} is revoked: its link no longer works.")
    return redirect("portal:vendor-team", slug=slug)


@portal_view
@require_POST
def member_role(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    vendor = selectors.vendor_get_for_member(user=request.user, slug=slug)
    membership = services.membership_change_role(
        actor=request.user, vendor=vendor, membership_id=pk, role=request.POST.get("role", "")
    )
    messages.success(
        request, f"{membership.user.email or membership.user} is now {membership.get_role_display().lower()}."
    )
    return redirect("portal:vendor-team", slug=slug)


@portal_view
@require_POST
def member_remove(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    vendor = selectors.vendor_get_for_member(user=request.user, slug=slug)
    services.membership_remove(actor=request.user, vendor=vendor, membership_id=pk)
    messages.success(request, f"The member is removed from {vendor.name}.")
    if vendor_role(request.user, vendor.pk) is None:
        return redirect("portal:dashboard")
    return redirect("portal:vendor-team", slug=slug)


def vendor_invitation(request: HttpRequest, token: str) -> HttpResponse:
    """The e-mailed link: shows what it invites to; a signed-in, verified invitee accepts with one button."""
    try:
        invitation = services.vendor_invitation_get_by_link(link_token=token)
    except ApplicationError as exc:
        return render(request, "portal/invitation.html", {"error": exc.message}, status=404)
    context = {"invitation": invitation, "target": invitation.vendor.name, "role": invitation.get_role_display()}
    if request.method == "POST" and request.user.is_authenticated:
        try:
            services.vendor_invitation_accept(user=request.user, link_token=token)
        except NotFound as exc:
            return render(request, "portal/invitation.html", {"error": exc.message}, status=404)
        except ApplicationError as exc:
            return render(request, "portal/invitation.html", {**context, "error": exc.message}, status=409)
        messages.success(
            request, f"Welcome to {invitation.vendor.name}: you joined as {invitation.get_role_display().lower()}."
        )
        return redirect("portal:dashboard")
    return render(request, "portal/invitation.html", context)
