"""The vendor's version form (create and edit a draft).

The form only shapes what the browser sends into the keyword arguments of
versions.services.version_create / version_update; the services apply every
rule (number, notes, scopes, members, compatibility, manual bump) and their
ApplicationError is shown next to the field. The rule text next to the number
field describes the same rules versions.schemes.validate_number applies, and the
page checks the number live through the portal's check-number endpoint, which
calls that very function.
"""

from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms

from marketplace.models import Listing
from marketplace.scopes import SENSITIVITY_NAMES, scope_words
from marketplace.selectors import host_product_list, scope_list
from versions.models import Pricing, Version
from versions.schemes import BUNDLE, DEFAULT_CHANNEL, OCP, OCP_TAGS
from versions.validation import UPDATE_NOTES_MAX

SEMVER_RULE = (
    "SemVer 2.0.0: MAJOR.MINOR.PATCH with no leading zeros, optionally -PRE-RELEASE and +BUILD "
    "(for example 1.4.0 or 2.0.0-beta.1). It must be greater than every published number of its channel."
)
MANUAL_BUMP_RULE = (
    "Manual scheme: a new scope or free -> paid needs at least a MINOR bump, a breaking change (tick "
    "'Breaking change' below) a MAJOR one; a PATCH may add no scope."
)
BREAKING_HELP = {
    "manual": (
        "Tick when this version breaks compatibility (a removed feature, a changed API or behaviour): its number "
        "must then be a MAJOR bump over the live version of its channel (for example 2.0.0 after 1.4.2)."
    ),
    OCP: (
        "Tick when this version breaks compatibility: its MAJOR must then be higher than the generally available "
        "version's (for example 2.0.0 or 2.0.0-beta.1 after 1.4.2), so sites get it as a MAJOR upgrade that "
        "their admin starts."
    ),
}


def number_rule(scheme: str) -> str:
    """The rule shown next to the number field, per numbering scheme."""
    if scheme == OCP:
        tags = ", ".join(f"-{t}.N" if t != "private" else "-private" for t in OCP_TAGS)
        return (
            f"{SEMVER_RULE} OCP: the only pre-release tags are {tags} (a '.' between tag and counter, "
            "not '-' or '_'); the tag picks the audience: dev = your sandbox, beta = share link, "
            "private = allowed sites, none = everyone."
        )
    if scheme == "manual":
        return f"{SEMVER_RULE} {MANUAL_BUMP_RULE}"
    return SEMVER_RULE


def _split(text: str) -> list[str]:
    return [part for part in text.replace(",", " ").split() if part]


class VersionForm(forms.Form):
    number = forms.CharField(
        label="Version number",
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "placeholder": "1.0.0"}),
    )
    channel = forms.CharField(
        label="Channel",
        required=False,
        initial=DEFAULT_CHANNEL,
        help_text="Release channel; one version is live per channel. Leave 'release' unless you run others.",
    )
    update_notes = forms.CharField(
        label="Update notes",
        required=False,
        help_text=f"Shown to customers: 1 to {UPDATE_NOTES_MAX} characters.",
        widget=forms.Textarea(attrs={"rows": 5, "data-max-length": UPDATE_NOTES_MAX}),
    )
    scopes = forms.MultipleChoiceField(
        label="Scopes from the catalogue", required=False, widget=forms.CheckboxSelectMultiple
    )
    other_scopes = forms.CharField(
        label="Other scopes",
        required=False,
        help_text=(
            "Scopes not in the catalogue, separated by spaces or commas (unknown scopes count as most sensitive)."
        ),
        widget=forms.TextInput(attrs={"spellcheck": "false", "placeholder": "write:jira-work"}),
    )
    members = forms.CharField(
        label="Members",
        required=False,
        help_text=(
            "People who may test the version before it is published: once it is submitted, each can see it "
            "and install it on the sites they administer (nobody else can). E-mail addresses, one per line "
            "or comma-separated."
        ),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    breaking = forms.BooleanField(label="Breaking change", required=False)
    pricing = forms.ChoiceField(label="Pricing", choices=Pricing.choices)
    api_version = forms.CharField(
        label="API version", required=False, initial="1", widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )
    # Carries the services' compatibility errors to the host-compatibility table (see compatibility_rows).
    compatibility = forms.CharField(required=False, widget=forms.HiddenInput)
    components = forms.CharField(
        label="Components",
        required=False,
        help_text="Bundle: one component per line as name=version (for example api=2024.05.1).",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    # Service fields the form shows under another input: the catalogue's checkboxes can't be
    # wrong (they are choices), so a refused scope is one typed into "Other scopes".
    SERVICE_FIELD_INPUTS = {"scopes": "other_scopes"}

    # What a new version takes over from the channel's live version (item: "a new version starts blank"
    # made a vendor who added one scope silently drop the others). The number and notes are new each time.
    CARRIED_OVER = ("scopes", "other_scopes", "members", "pricing", "api_version", "components", "compatibility")

    def __init__(
        self,
        *args: Any,
        listing: Listing,
        version: Version | None = None,
        carried_from: Version | None = None,
        **kwargs: Any,
    ) -> None:
        self.listing = listing
        self.version = version
        self.carried_from = carried_from if version is None else None
        self.catalogue = list(scope_list())
        self.products = list(host_product_list())
        if version is not None and "initial" not in kwargs:
            kwargs["initial"] = self._initial_from(version)
        elif self.carried_from is not None and "initial" not in kwargs:
            kwargs["initial"] = self._carried_over(self.carried_from)
        kwargs.setdefault("initial", {}).setdefault("pricing", listing.pricing)
        super().__init__(*args, **kwargs)
        self.fields["number"].help_text = number_rule(listing.scheme)
        # "read:jira-work (read): See your Jira issues": the code a vendor types, then what it lets the app do.
        self.fields["scopes"].choices = [
            (s.name, f"{s.name} ({SENSITIVITY_NAMES.get(s.sensitivity, '?')}): {scope_words(s.name, s.description)}")
            for s in self.catalogue
        ]
        if listing.scheme == OCP:
            del self.fields["channel"]  # OCP derives the channel from the pre-release tag
        if listing.scheme != BUNDLE:
            del self.fields["components"]
        if listing.scheme in BREAKING_HELP:
            self.fields["breaking"].help_text = BREAKING_HELP[listing.scheme]
        else:
            del self.fields["breaking"]  # the portal makes these numbers (versions.policies.manual_bump_check)
        for product in self.products:
            prefix = f"compat_{product.pk}"
            self.fields[prefix] = forms.BooleanField(label=product.name, required=False)
            self.fields[f"{prefix}_min"] = forms.CharField(
                label=f"{product.name} from version", required=False, widget=forms.TextInput(attrs={"size": 8})
            )
            self.fields[f"{prefix}_max"] = forms.CharField(
                label=f"{product.name} up to version", required=False, widget=forms.TextInput(attrs={"size": 8})
            )

    def _initial_from(self, version: Version) -> dict[str, Any]:
        known = {s.name for s in self.catalogue}
        initial: dict[str, Any] = {
            "number": version.number,
            "channel": version.channel,
            "update_notes": version.update_notes,
            "scopes": [s for s in version.scopes if s in known],
            "other_scopes": " ".join(s for s in version.scopes if s not in known),
            "members": "\n".join(version.members),
            "pricing": version.pricing,
            "breaking": version.breaking,
            "api_version": str(version.api_version),
            "components": "\n".join(f"{c['name']}={c['version']}" for c in version.components),
        }
        by_key = {p.key: p for p in self.products}
        for entry in version.compatibility:
            product = by_key.get(entry.get("product"))
            if product is None:
                continue
            initial[f"compat_{product.pk}"] = True
            initial[f"compat_{product.pk}_min"] = entry.get("min", "")
            initial[f"compat_{product.pk}_max"] = entry.get("max", "")
        return initial

    def _carried_over(self, live: Version) -> dict[str, Any]:
        """The live version's scopes, compatibility, pricing, API version, members and components."""
        initial = self._initial_from(live)
        return {
            name: value for name, value in initial.items() if name in self.CARRIED_OVER or name.startswith("compat_")
        }

    # --- what the template and the services need -------------------------------------

    def compatibility_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "product": p,
                "enabled": self[f"compat_{p.pk}"],
                "min": self[f"compat_{p.pk}_min"],
                "max": self[f"compat_{p.pk}_max"],
            }
            for p in self.products
        ]

    def proposed_snapshot(self) -> tuple[list[str], str, str, str | None]:
        """(scopes, pricing, number, channel) as typed, even when a service refused them (for the preview)."""
        data = self.data
        scopes = [*data.getlist("scopes"), *_split(data.get("other_scopes", ""))]
        channel = data.get("channel") if "channel" in self.fields else None
        return scopes, data.get("pricing") or self.listing.pricing, data.get("number", ""), channel

    def selected_scopes(self) -> list[str]:
        data = self.cleaned_data
        return [*data.get("scopes", []), *_split(data.get("other_scopes", ""))]

    def service_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for version_create / version_update."""
        data = self.cleaned_data
        kwargs: dict[str, Any] = {
            "number": data["number"],
            # Browsers send line breaks as CRLF; customers (and the 500 limit) count one character each.
            "update_notes": data["update_notes"].replace("\r\n", "\n"),
            "scopes": self.selected_scopes(),
            "members": _split(data["members"]),
            "pricing": data["pricing"],
            "api_version": data["api_version"].strip() or "1",
            "compatibility": self._compatibility(),
        }
        if "channel" in self.fields and data.get("channel", "").strip():
            kwargs["channel"] = data["channel"].strip()
        if "components" in self.fields:
            kwargs["components"] = self._components()
        if "breaking" in self.fields:
            kwargs["breaking"] = bool(data.get("breaking"))
        return kwargs

    def _compatibility(self) -> list[dict[str, str]]:
        entries = []
        for p in self.products:
            if not self.cleaned_data.get(f"compat_{p.pk}"):
                continue
            entry = {"product": p.key}
            for bound in ("min", "max"):
                value = (self.cleaned_data.get(f"compat_{p.pk}_{bound}") or "").strip()
                if value:
                    entry[bound] = value
            entries.append(entry)
        return entries

    def _components(self) -> list[dict[str, str]]:
        return parse_components(self.cleaned_data.get("components") or "")


def parse_components(text: str) -> list[dict[str, str]]:
    """`name=version` lines -> [{"name", "version"}]; the services judge what is valid."""
    components = []
    for line in text.splitlines():
        if not line.strip():
            continue
        name, _, version = line.partition("=")
        components.append({"name": name.strip(), "version": version.strip()})
    return components


class ShareForm(forms.Form):
    """Share a bundle listing's app group (the portal numbers the version)."""

    major = forms.IntegerField(
        label="MAJOR",
        min_value=0,
        help_text="Keep the live MAJOR for a compatible update (the MINOR counts up); raise it for a breaking one.",
    )
    components = forms.CharField(
        label="Components",
        help_text="One component per line as name=version (for example api=2026.11.1).",
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    update_notes = forms.CharField(
        label="Update notes",
        required=False,
        max_length=500,
        help_text="Optional: the portal lists the updated components when you leave it empty.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def service_kwargs(self) -> dict[str, Any]:
        return {
            "major": self.cleaned_data["major"],
            "components": parse_components(self.cleaned_data["components"]),
            "update_notes": self.cleaned_data.get("update_notes") or "",
        }


class TransitionCommentForm(forms.Form):
    comment = forms.CharField(label="Comment (optional)", required=False, max_length=5000)


class DuplicateForm(forms.Form):
    number = forms.CharField(
        label="Number for the copy",
        required=False,
        help_text="Leave empty to let the portal suggest the next free number.",
    )


# --- release controls (issue #16 items 2 and 4) ---------------------------------------------------


class RereleaseForm(forms.Form):
    update_notes = forms.CharField(
        required=False,
        max_length=UPDATE_NOTES_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Update notes",
        help_text="Shown to customers. Leave empty to say it is a re-release and reuse the old version's notes.",
    )
    publish = forms.BooleanField(
        required=False,
        initial=True,
        label="Publish right away if it needs no review",
        help_text="Untick to leave it approved, so you can publish it later or schedule it.",
    )


class SchedulePublishForm(forms.Form):
    """A wall-clock time in a zone; the view turns it into one instant (versions.services.releases)."""

    publish_at = forms.DateTimeField(
        label="Publish at",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="The date and time in the time zone below.",
        error_messages={"invalid": "Publish at must be a date and time such as 2026-12-01 09:30."},
    )
    time_zone = forms.ChoiceField(
        choices=[(tz, tz) for tz in sorted(zoneinfo.available_timezones()) if "/" in tz or tz == "UTC"],
        label="Time zone",
        help_text="Your profile's time zone unless you pick another.",
    )

    def clean_publish_at(self) -> Any:
        # The field made the value aware in the page's zone; keep the wall-clock time the vendor typed.
        value = self.cleaned_data["publish_at"]
        return value.replace(tzinfo=None) if value is not None else value
