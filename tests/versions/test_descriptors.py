"""Pure tests of descriptor parsing, canonical form and the bump rules (no database)."""

from __future__ import annotations

import json

import pytest

from versions import descriptors as d
from versions.descriptors import DescriptorError, KeyChangedError

CATALOGUE = {"read": 1, "write": 2, "read:jira-work": 1, "write:jira-work": 2, "delete:jira-work": 3, "admin": 4}


def connect(**fields):
    base = {
        "key": "my-app",
        "name": "My App",
        "baseUrl": "{{localBaseUrl}}",
        "scopes": ["read"],
        "modules": {"generalPages": [{"key": "p", "url": "/p"}]},
    }
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not ...})


def forge(scopes=("read:jira-work",), licensing=None, extra=""):
    lic = f"\n  licensing:\n    enabled: {str(licensing).lower()}" if licensing is not None else ""
    scope_lines = "".join(f"\n    - {s}" for s in scopes)
    return f"""app:
  id: ari:cloud:ecosystem::app/abc{lic}
modules:
  jira:issuePanel:
    - key: panel
      title: Panel{extra}
permissions:
  scopes:{scope_lines if scopes else " []"}
"""


def diff(old, new, scheme="connect"):
    return d.diff_descriptors(d.parse_descriptor(scheme, old), d.parse_descriptor(scheme, new), CATALOGUE)


# --- parsing and canonical form -------------------------------------------------------


def test_missing_api_version_means_one_and_scopes_are_normalised():
    parsed = d.parse_connect(connect(scopes=["WRITE", " Read "]))
    assert parsed.api_version == 1
    assert parsed.scopes == ("read", "write")
    assert parsed.canonical["apiVersion"] == 1
    assert parsed.paid is False


def test_key_order_whitespace_and_scope_order_do_not_change_the_hash():
    a = d.parse_connect('{"key":"my-app","scopes":["read","write"],"name":"X"}')
    b = d.parse_connect('{\n  "name": "X",\n\n  "scopes": ["WRITE", "read"],\n  "key": "my-app"\n}\n')
    assert a.hash == b.hash
    assert diff(a.canonical, b.canonical).bump is None


def test_unknown_fields_and_placeholders_are_kept_not_refused():
    parsed = d.parse_connect(connect(vendorExtension={"x": 1}, baseUrl="{{localBaseUrl}}/app"))
    assert parsed.canonical["vendorExtension"] == {"x": 1}
    assert parsed.canonical["baseUrl"] == "{{localBaseUrl}}/app"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{", "Invalid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"name": "no key"}', "key is required"),
        ('{"key": "a", "apiVersion": "two"}', "apiVersion must be a whole number"),
        ('{"key": "a", "apiVersion": 0}', "apiVersion must be a whole number"),
        ('{"key": "a", "scopes": "read", "enableLicensing": "maybe"}', "enableLicensing must be true or false"),
        ('{"key": "a", "scopes": [1]}', "scope 1 must be text"),
        ('{"key": "a", "scopes": ["no spaces allowed"]}', "is invalid"),
        ('{"key": "a", "x": NaN}', "not a valid JSON number"),
        (b"\xff\xfe\x00", "not UTF-8"),
        ("   ", "empty"),
    ],
)
def test_invalid_connect_descriptors_say_what_is_wrong(raw, message):
    with pytest.raises(DescriptorError) as exc:
        d.parse_connect(raw)
    assert message in exc.value.message


def test_deep_nesting_is_refused_not_crashing():
    with pytest.raises(DescriptorError, match="nested too deeply"):
        d.parse_connect('{"key": "a", "x": ' + "[" * 5000 + "]" * 5000 + "}")


def test_forge_manifest_parses_yaml_and_json():
    parsed = d.parse_forge(forge(scopes=("READ:jira-work", "write:jira-work")))
    assert parsed.key == "ari:cloud:ecosystem::app/abc"
    assert parsed.scopes == ("read:jira-work", "write:jira-work")
    as_json = json.dumps({"app": {"id": "ari:cloud:ecosystem::app/abc"}, "permissions": {"scopes": ["read:jira-work"]}})
    assert d.parse_forge(as_json).scopes == ("read:jira-work",)


def test_forge_licensing_and_yaml_aliases():
    assert d.parse_forge(forge(licensing=True)).paid is True
    assert d.parse_forge(forge()).paid is False
    with pytest.raises(DescriptorError, match="aliases are not allowed"):
        d.parse_forge("app: &a {id: x}\nother: *a\n")
    with pytest.raises(DescriptorError, match="app is required"):
        d.parse_forge("modules: {}\n")
    with pytest.raises(DescriptorError, match="Invalid YAML"):
        d.parse_forge("app: [unclosed\n")


# --- connect bump rules ---------------------------------------------------------------------


def test_connect_unchanged_is_no_version():
    result = diff(connect(), connect())
    assert result.bump is None
    assert result.next_number("1.2.3") is None
    assert result.consent_required is False


def test_connect_api_version_change_is_major_equal_to_the_new_api_version():
    result = diff(connect(), connect(apiVersion=2))
    assert result.bump == "major"
    assert str(result.next_number("1.2.3")) == "2.0.0"
    assert "API version 1 -> 2" in result.reasons


def test_connect_api_version_never_makes_a_smaller_number():
    result = diff(connect(apiVersion=2), connect(apiVersion=3))
    assert str(result.next_number("5.1.0")) == "6.0.0"


def test_connect_scope_added_is_minor_and_needs_consent():
    result = diff(connect(scopes=["read"]), connect(scopes=["read", "write:jira-work"]))
    assert result.bump == "minor"
    assert str(result.next_number("1.2.3")) == "1.3.0"
    assert "scope added: write:jira-work" in result.reasons
    assert result.consent_required is True


def test_connect_scope_removed_is_minor_and_needs_consent():
    # The seed's class: a MINOR made because scopes changed (removed too) asks every site.
    result = diff(connect(scopes=["read", "write"]), connect(scopes=["read"]))
    assert result.bump == "minor"
    assert result.reasons == ("scope removed: write",)
    assert result.consent_required is True


def test_connect_covered_scope_change_is_minor_and_needs_consent():
    # write:jira-work already covers read:jira-work, but the scope list changed: still the consent class.
    result = diff(connect(scopes=["write:jira-work"]), connect(scopes=["write:jira-work", "read:jira-work"]))
    assert result.bump == "minor"
    assert result.consent_required is True


def test_connect_patch_without_scope_or_price_change_asks_nothing():
    result = diff(connect(scopes=["read"], name="Old"), connect(scopes=["read"], name="New"))
    assert result.bump == "patch"
    assert result.consent_required is False


def test_connect_free_to_paid_is_minor_and_needs_consent():
    result = diff(connect(enableLicensing=False), connect(enableLicensing=True))
    assert result.bump == "minor"
    assert result.free_to_paid is True
    assert result.consent_required is True
    assert "price free -> paid" in result.reasons


def test_connect_paid_to_free_is_patch():
    result = diff(connect(enableLicensing=True), connect(enableLicensing=False))
    assert result.bump == "patch"
    assert result.consent_required is False


def test_connect_other_change_is_patch_and_names_what_changed():
    result = diff(connect(), connect(name="My Renamed App"))
    assert result.bump == "patch"
    assert str(result.next_number("1.2.3")) == "1.2.4"
    assert result.reasons == ("changed: name",)


def test_connect_api_version_beats_scopes():
    result = diff(connect(), connect(apiVersion=2, scopes=["read", "admin"]))
    assert result.bump == "major"
    assert result.consent_required is True


def test_connect_changed_key_is_an_error_not_a_version():
    with pytest.raises(KeyChangedError, match="key changed from 'my-app' to 'other-app'"):
        diff(connect(), connect(key="other-app"))


def test_first_version_is_1_0_0():
    result = d.first_version_diff(d.parse_connect(connect(apiVersion=3)))
    assert str(result.next_number(None)) == "1.0.0"


# --- forge bump rules -----------------------------------------------------------------------


def test_forge_unchanged_is_no_version():
    assert diff(forge(), forge(), "forge").bump is None


def test_forge_scope_added_is_major_and_needs_consent():
    result = diff(forge(), forge(scopes=("read:jira-work", "write:jira-work")), "forge")
    assert result.bump == "major"
    assert str(result.next_number("1.2.0")) == "2.0.0"
    assert result.consent_required is True


def test_forge_scope_removed_is_major_and_needs_consent():
    result = diff(forge(scopes=("read:jira-work", "write:jira-work")), forge(), "forge")
    assert result.bump == "major"
    assert "scope removed: write:jira-work" in result.reasons
    assert result.consent_required is True


def test_forge_free_to_paid_is_major():
    result = diff(forge(licensing=False), forge(licensing=True), "forge")
    assert result.bump == "major"
    assert result.consent_required is True


def test_forge_other_change_is_minor():
    result = diff(forge(), forge(extra="\n      description: New"), "forge")
    assert result.bump == "minor"
    assert str(result.next_number("1.2.0")) == "1.3.0"
    assert result.reasons == ("changed: modules.jira:issuePanel",)


def test_forge_changed_app_id_is_an_error():
    other = forge().replace("app/abc", "app/xyz")
    with pytest.raises(KeyChangedError) as exc:
        diff(forge(), other, "forge")
    assert exc.value.field == "app.id"


# --- report ---------------------------------------------------------------------------------


def test_report_lines_and_dict():
    report = d.diff_documents(
        connect(),
        connect(scopes=["read", "write:jira-work"]),
        scheme="connect",
        catalogue=CATALOGUE,
        from_number="1.2.3",
    )
    assert report.lines() == ["bump: minor", "next: 1.3.0", "reason: scope added: write:jira-work", "consent: required"]
    assert report.as_dict()["next"] == "1.3.0"


def test_report_invalid_from_number_names_the_problem():
    with pytest.raises(DescriptorError, match="leading zero"):
        d.diff_documents(connect(), connect(), scheme="connect", from_number="01.2.3")


def test_update_notes_fit_the_limit():
    result = diff(connect(scopes=["read"]), connect(scopes=["read", *[f"read:thing-{i:03}" for i in range(80)]]))
    notes = result.update_notes()
    assert 1 <= len(notes) <= 500
    assert notes.startswith("Automatic update: scope added: read:thing-000")


# --- what a poll row shows: the document diff and why it bumped (#15 item 8) ----------------------


def test_bump_reason_says_which_rule_made_the_bump():
    base = '{"key":"my-app","apiVersion":1,"scopes":["read"]}'
    assert diff(base, '{"key":"my-app","apiVersion":2,"scopes":["read"]}').bump_reason.startswith(
        "MAJOR because the apiVersion changed"
    )
    assert diff(base, '{"key":"my-app","apiVersion":1,"scopes":["read","write"]}').bump_reason.startswith(
        "MINOR because scope added: on connect"
    )
    patch = diff(base, '{"key":"my-app","apiVersion":1,"scopes":["read"],"name":"New name"}')
    assert patch.bump_reason == ("PATCH because only name (added) changed: scopes, price and apiVersion are the same.")
    assert diff(base, base).bump_reason == "Nothing changed, so no new version."
    first = d.first_version_diff(d.parse_descriptor("connect", base))
    assert first.bump_reason == "MAJOR: the first version made from a descriptor is 1.0.0."


def test_document_changes_lists_added_removed_and_changed_paths_with_values():
    old = {"key": "a", "scopes": ["read"], "modules": {"panel": {"title": "Old"}}, "gone": 1}
    new = {"key": "a", "scopes": ["read", "write"], "modules": {"panel": {"title": "New"}}, "name": "X"}
    assert d.document_changes(old, new) == [
        {"path": "gone", "change": "removed", "before": "1", "after": ""},
        {"path": "modules.panel.title", "change": "changed", "before": '"Old"', "after": '"New"'},
        {"path": "name", "change": "added", "before": "", "after": '"X"'},
        {"path": "scopes", "change": "changed", "before": '["read"]', "after": '["read","write"]'},
    ]
    assert d.document_changes(None, new) == []
    assert d.document_changes(old, old) == []


def test_document_changes_are_bounded():
    old = {f"k{i:03}": i for i in range(100)}
    new = {f"k{i:03}": i + 1 for i in range(100)}
    rows = d.document_changes(old, new, limit=5)
    assert len(rows) == 6 and rows[-1]["path"] == "… and 95 more"
    long = d.document_changes({"a": "x"}, {"a": "y" * 500})[0]["after"]
    assert len(long) == 120 and long.endswith("…")
