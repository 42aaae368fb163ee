"""Forms of the reviewer workspace."""

from __future__ import annotations

from django import forms


class RejectForm(forms.Form):
    comment = forms.CharField(
        label="Comments for the vendor",
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80}),
        max_length=5000,
        help_text=(
            "Required. Say what must change before the version can be approved; the vendor is e-mailed these comments."
        ),
        error_messages={"required": "Comments are required when rejecting: tell the vendor what to fix."},
    )
