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
from marketplace.selectors import category_list, host_product_list, vendors_of


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
    # No picker of every customer site (that would show a vendor the marketplace's customers):
    # a private listing is opened to the sites whose ids their admins told the vendor.
    allowed_sites = forms.CharField(
        label="Allowed site ids",
        required=False,
        help_text="For a private listing: the ids of the only customer sites that see it, separated by commas "
        "(a site's admin finds the id on the site's page and tells you).",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "spellcheck": "false", "autocomplete": "off"}),
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
    # The storefront's fields (their rules: marketplace.services and marketplace.images).
    description = forms.CharField(
        label="Description",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Markdown (headings, lists, links, emphasis); no HTML. At most 20,000 characters.",
    )
    categories = forms.ModelMultipleChoiceField(
        queryset=None, label="Categories", required=False, widget=forms.CheckboxSelectMultiple
    )
    documentation_url = forms.CharField(label="Documentation link", required=False)
    support_url = forms.CharField(label="Support link", required=False)
    privacy_url = forms.CharField(label="Privacy policy link", required=False)
    eula_url = forms.CharField(label="Licence agreement (EULA) link", required=False)
    icon = forms.FileField(
        label="Icon",
        required=False,
        help_text="A square PNG, JPEG or WebP image, 64 to 1024 pixels wide, at most 512 KB.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
    )
    screenshot = forms.FileField(
        label="Add a screenshot",
        required=False,
        help_text="PNG, JPEG or WebP, 320×200 to 3840×2400 pixels, at most 4 MB; up to 8 per listing.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
    )
    screenshot_caption = forms.CharField(label="Screenshot caption", required=False, max_length=200)

    def __init__(self, *args: Any, user: Any, listing: Listing | None = None, **kwargs: Any) -> None:
        if listing is not None and "initial" not in kwargs:
            kwargs["initial"] = listing_initial(listing)
        super().__init__(*args, **kwargs)
        self.listing = listing
        self.fields["host_products"].queryset = host_product_list()
        self.fields["categories"].queryset = category_list()
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

    def clean_allowed_sites(self) -> list[int]:
        raw = self.cleaned_data.get("allowed_sites") or ""
        parts = [p.strip() for p in raw.replace(";", ",").split(",") if p.strip()]
        bad = [p for p in parts if not (p.isascii() and p.isdigit() and len(p) <= 12)]
        if bad:
            raise forms.ValidationError(f"{bad[0]!r} is not a site id: use numbers separated by commas (e.g. 12, 40).")
        return sorted({int(p) for p in parts})

    def uploads(self) -> dict[str, Any]:
        """The images to store once the listing is saved (services check them with Pillow)."""
        return {name: self.cleaned_data.get(name) for name in ("icon", "screenshot", "screenshot_caption")}

    def service_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for listing_create / listing_update."""
        data = dict(self.cleaned_data)
        data.pop("vendor", None)
        for name in ("icon", "screenshot", "screenshot_caption"):
            data.pop(name, None)
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
        "allowed_sites": ", ".join(str(pk) for pk in listing.allowed_sites.values_list("pk", flat=True)),
        "host_products": list(listing.host_products.all()),
        "descriptor_url": listing.descriptor_url,
        "description": listing.description,
        "categories": list(listing.categories.all()),
        "documentation_url": listing.documentation_url,
        "support_url": listing.support_url,
        "privacy_url": listing.privacy_url,
        "eula_url": listing.eula_url,
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
