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
