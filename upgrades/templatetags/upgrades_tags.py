"""`{% load upgrades_tags %}{% rollout_progress listing %}`: the rollout panel on any page."""

from django import template

from upgrades.selectors import listing_rollout_panel

register = template.Library()


@register.inclusion_tag("upgrades/_rollout_progress.html", takes_context=True)
def rollout_progress(context: template.Context, listing: object) -> dict:
    return {
        **listing_rollout_panel(listing=listing),
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
    }
