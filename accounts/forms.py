from __future__ import annotations

import zoneinfo

from django import forms

TIME_ZONE_CHOICES = [(tz, tz) for tz in sorted(zoneinfo.available_timezones()) if "/" in tz or tz == "UTC"]


class ProfileForm(forms.Form):
    first_name = forms.CharField(max_length=150, required=False, label="First name")
    last_name = forms.CharField(max_length=150, required=False, label="Last name")
    time_zone = forms.ChoiceField(
        choices=TIME_ZONE_CHOICES, label="Time zone", help_text="Every time the portal shows you is in this zone."
    )
    notification_email = forms.EmailField(
        required=False,
        label="Notification e-mail",
        help_text="Where the portal's notices go. Leave it empty to use your primary address.",
    )

    def __init__(self, *args, emails: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.emails = [e.lower() for e in emails]

    def clean_notification_email(self) -> str:
        value = (self.cleaned_data.get("notification_email") or "").strip().lower()
        if value and value not in self.emails:
            raise forms.ValidationError(
                "Notification e-mail must be one of your verified addresses: add and verify it under E-mail addresses first."
            )
        return value


class TokenForm(forms.Form):
    name = forms.CharField(max_length=80, label="Token name", help_text="For example 'CI deploys'.")


def _login_form_base():
    from allauth.account.forms import LoginForm

    return LoginForm


class PortalLoginForm(_login_form_base()):
    """allauth's sign-in form, with a label that says what to type."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["login"].label = "E-mail address or user name"
        self.fields["remember"].label = "Keep me signed in on this device"


class EmailPreferencesForm(forms.Form):
    """One checkbox per kind of vendor e-mail (core.notifications.VENDOR_EMAIL_KINDS)."""

    def __init__(self, *args, **kwargs):
        from core.notifications import VENDOR_EMAIL_KINDS

        super().__init__(*args, **kwargs)
        for kind, label in VENDOR_EMAIL_KINDS.items():
            self.fields[kind] = forms.BooleanField(required=False, label=label)
