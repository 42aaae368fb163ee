"""`{% load descriptor_polling %}{% descriptor_poll_panel listing %}`: the poll history and
"Poll now" for a connect listing, for the vendor's listing page (its extra_sections block)."""

from __future__ import annotations

from typing import Any

from django import template

from versions.models import DescriptorPollState
from versions.services.automatic import poll_history

register = template.Library()


@register.inclusion_tag("versions/_poll_panel.html", takes_context=True)
def descriptor_poll_panel(context: template.Context, listing: Any, limit: int = 20) -> dict[str, Any]:
    request = context.get("request")
    return {
        "listing": listing,
        "polls": list(poll_history(listing=listing, limit=limit)) if listing.scheme == "connect" else [],
        "state": DescriptorPollState.objects.filter(listing=listing).first(),
        "next": request.get_full_path() if request is not None else "",
        "csrf_token": context.get("csrf_token"),
        "deploys": list(listing.deploys.select_related("version", "actor")[:limit])
        if listing.scheme == "forge"
        else [],
    }
