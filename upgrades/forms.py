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
