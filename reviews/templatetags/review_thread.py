"""The review conversation on the vendor's version page (portal/_review_thread.html).

A tag, so the versions app's page shows the reviews app's thread without versions importing
reviews (the floors): the page includes the template, the template loads this tag.
"""

from __future__ import annotations

from typing import Any

from django import template

from reviews.selectors import review_thread
from versions.models import State

register = template.Library()


@register.simple_tag(takes_context=True)
def review_conversation(context: Any, version: Any) -> dict[str, Any]:
    """The thread (never the private notes), whether a reply is open, and a refused reply's draft."""
    request = context.get("request")
    draft = request.session.get(f"review-reply-draft-{version.pk}", "") if request is not None else ""
    return {
        "messages": review_thread(version=version),
        "open": version.state == State.NEEDS_INFORMATION,
        "draft": draft,
    }
