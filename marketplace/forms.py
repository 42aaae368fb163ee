"""Forms of the vendor portal for listings.

They only shape input: every rule (key format, descriptor URL, scheme changes,
...) lives in marketplace.services, whose ApplicationError the views put next to
the field with core.forms.add_application_error. Fields the
services check are therefore not `required` here, so the one message a vendor
sees is the service's.
"""

from __future__ import annotations

from typing import Any

from django import forms

from marketplace.models import LISTING_KEY_RULE, Listing
from marketplace.schemes import SCHEME_CHOICES
from marketplace.selectors import host_product_list, site_choices_for_listing, vendors_of


class ListingForm(forms.Form):
    vendor = forms.ModelChoiceField(queryset=None, label="Vendor", empty_label=None)
    key = forms.CharField(
        label="Key",
        required=False,
        help_text=f"The key {LISTING_KEY_RULE}. Customers and coordinates (key@version) use it; it can't change later.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    name = forms.CharField(label="Name", required=False, help_text="Required, at most 120 characters.")
    summary = forms.CharField(
        label="Summary", required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="At most 255 characters."
    )
    scheme = forms.ChoiceField(
        label="Numbering scheme",
        choices=SCHEME_CHOICES,
        initial="manual",
        help_text="How version numbers are made; it can't change once the listing has versions.",
    )
    pricing = forms.ChoiceField(label="Pricing", choices=Listing.Pricing.choices, initial="free")
    visibility = forms.ChoiceField(
        label="Visibility", choices=Listing.Visibility.choices, initial="public", widget=forms.RadioSelect
    )
    allowed_sites = forms.ModelMultipleChoiceField(
        queryset=None,
        label="Allowed sites",
        required=False,
        help_text="For a private listing: the only customer sites that see it.",
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    host_products = forms.ModelMultipleChoiceField(
        queryset=None, label="Host products", required=False, widget=forms.CheckboxSelectMultiple
    )
    descriptor_url = forms.CharField(
        label="Descriptor URL",
        required=False,
        help_text="Connect listings: the http(s) address of the app descriptor the portal polls.",
        widget=forms.TextInput(attrs={"inputmode": "url", "spellcheck": "false"}),
    )

    def __init__(self, *args: Any, user: Any, listing: Listing | None = None, **kwargs: Any) -> None:
        if listing is not None and "initial" not in kwargs:
            kwargs["initial"] = listing_initial(listing)
        super().__init__(*args, **kwargs)
        self.listing = listing
        self.fields["host_products"].queryset = host_product_list()
        self.fields["allowed_sites"].queryset = site_choices_for_listing()
        if listing is None:
            vendors = vendors_of(user)
            self.fields["vendor"].queryset = vendors
            if vendors.count() == 1:
                self.fields["vendor"].widget = forms.HiddenInput()
                self.fields["vendor"].initial = vendors.first().pk
        else:
            # The key and the vendor of a listing never change.
            del self.fields["vendor"]
            self.fields["key"].disabled = True
            self.fields["key"].help_text = "The key can't change: customers and coordinates (key@version) use it."

    def service_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for listing_create / listing_update."""
        data = dict(self.cleaned_data)
        data.pop("vendor", None)
        if self.listing is not None:
            data.pop("key", None)
        return data


def listing_initial(listing: Listing) -> dict[str, Any]:
    return {
        "key": listing.key,
        "name": listing.name,
        "summary": listing.summary,
        "scheme": listing.scheme,
        "pricing": listing.pricing,
        "visibility": listing.visibility,
        "allowed_sites": list(listing.allowed_sites.all()),
        "host_products": list(listing.host_products.all()),
        "descriptor_url": listing.descriptor_url,
    }


class VendorForm(forms.Form):
    """A new vendor; the rules (slug format, unique names, addresses) are marketplace.services.vendor_register's."""

    name = forms.CharField(label="Vendor name", max_length=200, help_text="Your company or team, as customers see it.")
    slug = forms.CharField(
        label="Slug",
        max_length=200,
        help_text="Lower-case letters, digits and hyphens, used in addresses (for example acme-apps).",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    contact_email = forms.CharField(label="Contact e-mail", max_length=254, help_text="Reviewers write here.")
    support_email = forms.CharField(
        label="Support e-mail", max_length=254, required=False, help_text="Customers ask for help here (optional)."
    )


class InvitationForm(forms.Form):
    email = forms.CharField(label="E-mail address", max_length=254)
    role = forms.ChoiceField(label="Role", choices=[("developer", "Developer"), ("owner", "Owner")])
