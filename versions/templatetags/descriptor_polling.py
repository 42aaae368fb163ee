"""`{% load descriptor_polling %}{% descriptor_poll_panel listing %}`: the poll history and
"Poll now" for a connect listing, for the vendor's listing page (its extra_sections block).

After "Poll now" the page's address carries `poll_after=<the last poll's id>`: until a newer
poll is recorded the panel says a poll is running, and static/js/polls.js asks
`portal:listing-polls-live` for the panel again until the poll ends (versions.views.automatic).
"""

from __future__ import annotations

from typing import Any

from django import template

from versions.models import DescriptorPollState
from versions.services.automatic import poll_history

register = template.Library()


def _int_param(request: Any, name: str) -> int | None:
    raw = request.GET.get(name, "") if request is not None else ""
    return int(raw) if raw.isdigit() else None


def poll_panel_context(
    *, listing: Any, request: Any, csrf_token: Any, waiting_after: int | None, limit: int = 20
) -> dict[str, Any]:
    """What templates/versions/_poll_panel.html shows (the page and the live endpoint share it)."""
    polls = list(poll_history(listing=listing, limit=limit)) if listing.scheme == "connect" else []
    waiting = waiting_after is not None and not any(p.pk > waiting_after for p in polls)
    next_url = request.get_full_path() if request is not None else ""
    return {
        "listing": listing,
        "polls": polls,
        "state": DescriptorPollState.objects.filter(listing=listing).first(),
        "next": next_url,
        "csrf_token": csrf_token,
        "waiting": waiting,
        "waiting_after": waiting_after,
        "deploys": list(listing.deploys.select_related("version", "actor")[:limit])
        if listing.scheme == "forge"
        else [],
    }


@register.inclusion_tag("versions/_poll_panel.html", takes_context=True)
def descriptor_poll_panel(context: template.Context, listing: Any, limit: int = 20) -> dict[str, Any]:
    request = context.get("request")
    return poll_panel_context(
        listing=listing,
        request=request,
        csrf_token=context.get("csrf_token"),
        waiting_after=_int_param(request, "poll_after"),
        limit=limit,
    )
