"""Scope rules (pure): normalisation, sensitivity, what counts as an increase."""

import pytest

from core.errors import ApplicationError
from marketplace.scopes import ADMIN, guess_sensitivity, normalise_scopes, scope_change, scope_sensitivity

CATALOGUE = {"read:jira-work": 1, "write:jira-work": 2, "delete:jira-work": 3, "read:jira-user": 1, "admin": 4}


def test_normalise_lowercases_sorts_and_dedups():
    assert normalise_scopes([" WRITE:jira-work", "read:jira-work", "READ:JIRA-WORK"]) == [
        "read:jira-work",
        "write:jira-work",
    ]


@pytest.mark.parametrize("bad", ["", "  ", "read jira", "read:jira/work", "x" * 101])
def test_invalid_scopes_are_refused_naming_the_field(bad):
    with pytest.raises(ApplicationError) as exc:
        normalise_scopes([bad])
    assert exc.value.field == "scopes"


def test_unknown_scopes_are_most_sensitive():
    assert scope_sensitivity("read:secret-stuff", CATALOGUE) == ADMIN
    assert scope_sensitivity("read:jira-work", CATALOGUE) == 1
    assert guess_sensitivity("write:x") == 2 and guess_sensitivity("zap:x") == ADMIN


def test_added_scope_is_an_increase():
    change = scope_change(["read:jira-work"], ["read:jira-work", "read:jira-user"], CATALOGUE)
    assert change.added == ("read:jira-user",) and change.increased == ("read:jira-user",)


def test_replacing_by_a_more_sensitive_scope_is_an_increase():
    change = scope_change(["read:jira-work"], ["write:jira-work"], CATALOGUE)
    assert change.is_increase and change.removed == ("read:jira-work",)


def test_removing_or_narrowing_is_never_an_increase():
    assert not scope_change(["read:jira-work", "write:jira-work"], ["read:jira-work"], CATALOGUE).is_increase
    narrowed = scope_change(["write:jira-work"], ["read:jira-work"], CATALOGUE)
    assert narrowed.changed and not narrowed.is_increase


def test_unknown_added_scope_is_always_an_increase():
    change = scope_change(["delete:jira-work"], ["delete:jira-work", "read:jira-work-extra"], CATALOGUE)
    assert change.increased == ("read:jira-work-extra",)


def test_order_and_duplicates_do_not_matter():
    assert not scope_change(["b:x", "a:x"], ["a:x", "b:x"], CATALOGUE).changed


def test_missing_required_scopes_names_each_scope_and_what_it_needs():
    from marketplace.scopes import missing_required_scopes, missing_scopes_message

    requires = {"write:jira-work": ("read:jira-work",), "delete:jira-work": ("read:jira-work", "write:jira-work")}
    assert missing_required_scopes(["read:jira-work", "write:jira-work"], requires) == []
    missing = missing_required_scopes(["write:jira-work", "delete:jira-work"], requires)
    assert [(m.scope, m.requires) for m in missing] == [
        ("delete:jira-work", "read:jira-work"),
        ("write:jira-work", "read:jira-work"),
    ]
    assert missing[1].as_dict() == {
        "scope": "write:jira-work",
        "requires": "read:jira-work",
        "add": "read:jira-work",
        "message": "write:jira-work requires read:jira-work: add read:jira-work",
    }
    assert missing_scopes_message(missing) == (
        "A required scope is missing: delete:jira-work requires read:jira-work; "
        "write:jira-work requires read:jira-work. Add read:jira-work to the scopes."
    )
    assert missing_scopes_message([]) == ""


# --- scopes in plain language (#15 item 6) ---------------------------------------------------


def test_scope_words_prefer_the_catalogue_description_else_say_the_parts():
    from marketplace.scopes import scope_words

    assert scope_words("read:jira-work", "  See issues and comments ") == "See issues and comments"
    assert scope_words("read:jira-work") == "See your jira work"
    assert scope_words("write:jira-work") == "Create and change your jira work"
    assert scope_words("delete:jira-work") == "Delete your jira work"
    assert scope_words("admin:jira") == "Administer your jira"
    assert scope_words("custom_thing") == "Access custom thing"
