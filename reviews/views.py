"""The vendor portal's side of a review: the reply to a reviewer's question (the thread itself is
shown on the version page through the review_thread template tag)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.errors import ApplicationError
from core.views import portal_view
from reviews import services
from versions.selectors import version_get_for_user


@portal_view
@require_POST
def version_reply(request: HttpRequest, pk: int) -> HttpResponse:
    version = version_get_for_user(user=request.user, pk=pk)
    try:
        services.review_reply(version=version, actor=request.user, body=request.POST.get("body", ""))
    except ApplicationError as exc:
        messages.error(request, f"Reply: {exc.message}")
        # Keep what they wrote: the form shows it again.
        request.session[f"review-reply-draft-{version.pk}"] = request.POST.get("body", "")[:5000]
    else:
        request.session.pop(f"review-reply-draft-{version.pk}", None)
        messages.success(request, f"Your reply is sent: {version} is back with its reviewer.")
    return redirect(reverse("portal:version-detail", args=[version.pk]) + "#review-thread")
