"""Forms of the upgrades pages. They only collect input: the services check it, and
core.forms puts a refusal next to the field it names."""

from __future__ import annotations

from django import forms


class ProductMigrationForm(forms.Form):
    """Move a site to another host product. Choices are offered, but the service decides what is valid."""

    host_product = forms.CharField(label="New product", widget=forms.Select, required=False)
    host_version = forms.CharField(
        label="Its version",
        max_length=40,
        required=False,
        help_text="The version the site runs after the move, e.g. 4.0 (compatibility ranges compare it).",
        widget=forms.TextInput(attrs={"placeholder": "4.0"}),
    )

    def __init__(self, *args, products=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["host_product"].widget.choices = [("", "Choose a product")] + [(p.key, p.name) for p in products]


class LifecycleUrlsForm(forms.Form):
    """The app's callback URLs (one field per callback the listing's scheme has); blank: not called."""

    def __init__(self, *args, names=(), helps=None, **kwargs):
        super().__init__(*args, **kwargs)
        for name in names:
            self.fields[name] = forms.CharField(
                label=name,
                required=False,
                max_length=500,
                help_text=(helps or {}).get(name, ""),
                widget=forms.URLInput(attrs={"placeholder": "https://app.example.com/" + name.lower()}),
            )


class WebhookEndpointForm(forms.Form):
    url = forms.CharField(
        label="Endpoint URL",
        max_length=500,
        required=False,
        widget=forms.URLInput(attrs={"placeholder": "https://hooks.example.com/marketplace"}),
        help_text="Public https URL that answers 2xx; redirects are not followed.",
    )
    description = forms.CharField(label="Description", max_length=120, required=False)
    events = forms.MultipleChoiceField(label="Events", required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, events=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["events"].choices = list(events)


class SiteRegisterForm(forms.Form):
    """Register a site; the rules (verified address, product, time zone) are upgrades.services.site_register's."""

    name = forms.CharField(label="Site name", max_length=200, help_text="For example 'Acme Jira (production)'.")
    host_product = forms.ModelChoiceField(queryset=None, label="Product it runs", empty_label="Choose…")
    host_version = forms.CharField(
        label="Product version", max_length=200, required=False, help_text="For example 9.12.4."
    )
    time_zone = forms.ChoiceField(label="Time zone", help_text="Maintenance windows are read in this zone.")

    def __init__(self, *args, **kwargs):
        import zoneinfo

        from marketplace.selectors import host_product_list

        super().__init__(*args, **kwargs)
        self.fields["host_product"].queryset = host_product_list()
        self.fields["host_product"].error_messages["invalid_choice"] = "Choose one of the products in the list."
        self.fields["time_zone"].choices = [
            (tz, tz) for tz in sorted(zoneinfo.available_timezones()) if "/" in tz or tz == "UTC"
        ]
        self.fields["time_zone"].initial = "UTC"


class SiteInvitationForm(forms.Form):
    email = forms.CharField(label="E-mail address of the new admin", max_length=254)


class SiteTokenForm(forms.Form):
    name = forms.CharField(label="Token name", max_length=200, help_text="For example 'production instance'.")


class SiteNotificationsForm(forms.Form):
    """A site admin's own e-mail settings for one site (issue #16 item 5)."""

    applied_upgrades = forms.ChoiceField(
        label="Upgrades applied on this site",
        widget=forms.RadioSelect,
        help_text="Requests to approve an upgrade are always e-mailed at once: they can't be turned off.",
    )

    def __init__(self, *args, **kwargs):
        from upgrades.models import AppliedUpgradeEmails

        super().__init__(*args, **kwargs)
        self.fields["applied_upgrades"].choices = AppliedUpgradeEmails.choices
