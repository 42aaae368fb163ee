"""Times on pages carry their zone (the `when` filter), and the error summary's links."""

from __future__ import annotations

from datetime import UTC, datetime

from django import forms
from django.template import Context, Template
from django.utils import timezone

from core.templatetags.portal_format import error_links, when


def test_when_shows_the_zone_in_a_time_element():
    moment = datetime(2026, 11, 28, 5, 20, 7, tzinfo=UTC)
    assert when(moment) == '<time datetime="2026-11-28T05:20:07+00:00">2026-11-28 05:20 UTC</time>'
    assert ">2026-11-28 05:20:07 UTC<" in when(moment, "Y-m-d H:i:s T")
    assert when(moment, "Y-m-d H:i").endswith("05:20 UTC</time>")  # a format without a zone gets one


def test_when_follows_the_active_time_zone():
    moment = datetime(2026, 11, 28, 5, 20, tzinfo=UTC)
    with timezone.override("Europe/Berlin"):
        assert "2026-11-28 06:20 CET" in when(moment)


def test_when_is_a_builtin_and_leaves_empty_values_empty(settings):
    html = Template("{{ at|when|default:'never' }}|{{ later|when }}").render(
        Context({"at": None, "later": datetime(2026, 1, 2, 3, 4, tzinfo=UTC)})
    )
    assert html.startswith("never|") and "2026-01-02 03:04 UTC" in html


class SampleForm(forms.Form):
    name = forms.CharField(label="Name")
    colours = forms.MultipleChoiceField(label="Colours", choices=[("red", "Red")], widget=forms.CheckboxSelectMultiple)


def test_error_links_point_at_the_input_or_the_wrapper_of_a_group():
    form = SampleForm({})
    assert not form.is_valid()
    form.add_error(None, "Something about the whole form.")
    links = error_links(form)
    assert {"anchor": "", "label": "", "message": "Something about the whole form."} in links
    assert {"anchor": "id_name", "label": "Name", "message": "This field is required."} in links
    assert {"anchor": "field-colours", "label": "Colours", "message": "This field is required."} in links
