"""Scopes (permissions an app asks for on a customer's data): pure rules.

Sensitivity ranks read < write < delete < admin. A scope the catalogue does not
know is accepted but ranked as the most sensitive, because the marketplace can't
vouch for what it grants. "Scopes increased" means a scope was added that is not
covered by an equally or more sensitive scope on the same resource the customer
already granted; removing scopes is never an increase.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from core.errors import ApplicationError

READ, WRITE, DELETE, ADMIN = 1, 2, 3, 4
SENSITIVITY_NAMES = {READ: "read", WRITE: "write", DELETE: "delete", ADMIN: "admin"}
MOST_SENSITIVE = ADMIN
_ACTION_LEVELS = {"read": READ, "write": WRITE, "delete": DELETE, "admin": ADMIN, "manage": ADMIN}
SCOPE_RE = re.compile(r"^[a-z0-9][a-z0-9:._\-]{0,99}$")


def normalise_scope(raw: str, *, field_name: str = "scopes") -> str:
    """Return the canonical (lower-case, trimmed) spelling, or raise naming the rule."""
    if not isinstance(raw, str):
        raise ApplicationError(f"Scope {raw!r} must be a string.", field=field_name)
    scope = raw.strip().lower()
    if not scope:
        raise ApplicationError("A scope must not be empty.", field=field_name)
    if not SCOPE_RE.match(scope):
        raise ApplicationError(
            f"Scope {raw!r} is invalid: use letters, digits and ':', '.', '_', '-' "
            "(for example read:jira-work), at most 100 characters.",
            field=field_name,
        )
    return scope


def normalise_scopes(raw: Iterable[str], *, field_name: str = "scopes") -> list[str]:
    """Canonical scope list: normalised, de-duplicated, sorted (order never matters)."""
    return sorted({normalise_scope(s, field_name=field_name) for s in raw})


def scope_resource(scope: str) -> str:
    """`write:jira-work` -> `jira-work`; a scope without a resource is its own resource."""
    _, sep, resource = scope.partition(":")
    return resource if sep else scope


_ACTION_WORDS = {
    "read": "See",
    "write": "Create and change",
    "delete": "Delete",
    "admin": "Administer",
    "manage": "Administer",
}


def scope_words(scope: str, description: str = "") -> str:
    """What a scope lets an app do, in plain language for customers and vendors.

    The catalogue's description when it has one; otherwise said from the scope's
    parts (`write:jira-work` -> "Create and change your jira work").
    """
    if description and description.strip():
        return description.strip()
    action, sep, resource = scope.partition(":")
    if not sep or action not in _ACTION_WORDS:
        return f"Access {scope.replace('-', ' ').replace('_', ' ')}"
    words = resource.replace("-", " ").replace("_", " ").replace(":", " ").replace(".", " ")
    return f"{_ACTION_WORDS[action]} your {words}"


def guess_sensitivity(scope: str) -> int:
    """Sensitivity from the scope's action prefix, for catalogue seeding and defaults."""
    action = scope.partition(":")[0]
    return _ACTION_LEVELS.get(action, MOST_SENSITIVE)


def scope_sensitivity(scope: str, catalogue: Mapping[str, int] | None = None) -> int:
    """Catalogue sensitivity; unknown scopes are the most sensitive."""
    if catalogue is not None and scope in catalogue:
        return catalogue[scope]
    return MOST_SENSITIVE


@dataclass(frozen=True)
class ScopeChange:
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    # Added scopes that widen access (what a customer has to consent to).
    increased: tuple[str, ...] = ()
    sensitivity: Mapping[str, int] = field(default_factory=dict)

    @property
    def is_increase(self) -> bool:
        return bool(self.increased)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


def scope_change(old: Iterable[str], new: Iterable[str], catalogue: Mapping[str, int] | None = None) -> ScopeChange:
    old_set, new_set = set(old), set(new)
    added = sorted(new_set - old_set)
    removed = sorted(old_set - new_set)
    levels = {s: scope_sensitivity(s, catalogue) for s in old_set | new_set}
    known = catalogue or {}
    # Only catalogued scopes can "cover" a new one: for an unknown scope the
    # marketplace can't tell what it grants, so adding one is always an increase.
    held_by_resource: dict[str, int] = {}
    for s in old_set & known.keys():
        res = scope_resource(s)
        held_by_resource[res] = max(held_by_resource.get(res, 0), levels[s])
    increased = [s for s in added if s not in known or levels[s] > held_by_resource.get(scope_resource(s), 0)]
    return ScopeChange(tuple(added), tuple(removed), tuple(increased), levels)


@dataclass(frozen=True)
class MissingScope:
    """`scope` is asked for, but `requires` (which it depends on) is not."""

    scope: str
    requires: str

    @property
    def message(self) -> str:
        return f"{self.scope} requires {self.requires}: add {self.requires}"

    def as_dict(self) -> dict[str, str]:
        return {"scope": self.scope, "requires": self.requires, "add": self.requires, "message": self.message}


def missing_required_scopes(scopes: Iterable[str], requirements: Mapping[str, Iterable[str]]) -> list[MissingScope]:
    """The scopes the catalogue says these scopes depend on but the list lacks, by scope name.

    `requirements` is {scope: the scopes it requires} (marketplace.selectors.scope_requirements()).
    """
    asked = set(scopes)
    return [
        MissingScope(scope, required)
        for scope in sorted(asked)
        for required in sorted(set(requirements.get(scope, ())))
        if required not in asked
    ]


def missing_scopes_message(missing: Iterable[MissingScope]) -> str:
    """One sentence naming every missing scope and what to add ('' when nothing is missing)."""
    missing = list(missing)
    if not missing:
        return ""
    to_add = sorted({m.requires for m in missing})
    return (
        "A required scope is missing: "
        + "; ".join(f"{m.scope} requires {m.requires}" for m in missing)
        + f". Add {', '.join(to_add)} to the scopes."
    )
