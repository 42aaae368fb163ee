"""Panels the upgrades app adds to other apps' pages, so those apps need not import it.

`{% load upgrades_tags %}{% rollout_progress listing %}`: the rollout panel;
`{% version_beta_panel version as beta_panel %}`: an OCP beta's share links;
`{% progress_bar progress %}`, `{% share_bar percent label %}`, `{% swatch colour %}`: the SVG bars and legends.
"""

from django import template

from upgrades import charts
from upgrades.selectors import listing_rollout_panel
from upgrades.selectors.beta import version_beta_panel as beta_panel_for

register = template.Library()


@register.inclusion_tag("upgrades/_rollout_summary.html", takes_context=True)
def rollout_progress(context: template.Context, listing: object) -> dict:
    """The listing page's summary; halting and resuming live on the rollouts page it links to."""
    return {
        **listing_rollout_panel(listing=listing),
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
    }


@register.simple_tag
def version_beta_panel(version: object) -> object:
    return beta_panel_for(version=version)


@register.inclusion_tag("upgrades/_deliveries_summary.html")
def deliveries_summary(listing: object) -> dict:
    """A link to the listing's callbacks and webhooks, with how many deliveries are failing."""
    from upgrades.selectors import delivery_list

    return {"listing": listing, "failing": delivery_list(listing=listing, state="failed").count()}


@register.simple_tag
def rollout_stages(rollout: object) -> object:
    """Issue #16: a staged rollout's stages, failure rate and next advance (None when not staged)."""
    from upgrades.selectors.stages import rollout_stage_panel

    return rollout_stage_panel(rollout)


@register.simple_tag(takes_context=True)
def my_site_admin(context: template.Context, site: object) -> object:
    """The signed-in user's own admin row for `site` (their e-mail settings), or None."""
    from upgrades.selectors.notifications import site_admin_of

    request = context.get("request")
    return site_admin_of(user=getattr(request, "user", None), site_id=site.pk) if request else None


@register.simple_tag
def progress_bar(progress: dict) -> str:
    """A rollout's progress (upgrades.selectors.rollout_progress) as one SVG bar of its segments."""
    parts = [(s["label"], s["percent"], s["color"]) for s in progress["segments"]]
    label = ", ".join(f"{s['label']} {s['count']} ({s['percent']}%)" for s in progress["segments"])
    return charts.bar_svg(parts=parts, label=label)


@register.simple_tag
def share_bar(percent: float, label: str) -> str:
    return charts.bar_svg(parts=[(label, percent, charts.PALETTE[0])], label=f"{label}: {percent}%")


@register.simple_tag
def swatch(colour: str) -> str:
    return charts.swatch_svg(colour)
