"""Descriptors and manifests: parse, canonicalise, diff and decide the bump (pure).

`connect` apps describe themselves in an Atlassian-Connect-style JSON descriptor
that the portal polls; `forge` apps push a Forge-style YAML manifest on every
production deploy. Both are messy in the wild (unknown fields, placeholders such
as ``{{localBaseUrl}}``, a missing ``apiVersion``, scopes in any case), so the
portal compares them semantically: the canonical form sorts keys, drops
whitespace, lower-cases and sorts scopes, so none of those ever make a version.

Bump rules (DESIGN.md section 5):

connect: apiVersion changed -> MAJOR equal to the new apiVersion (1.2.3 -> 2.0.0);
         scopes increased or changed, or free -> paid -> MINOR; any other change
         -> PATCH; unchanged -> no version.
forge:   scopes increased or changed, or free -> paid -> MAJOR; any other change
         -> MINOR; unchanged -> no version.

Customers must consent to exactly those classes: every version whose scopes changed
(added, replaced or removed) or that turned the app from free to paid
(versions.policies.upgrade_requires_consent says so for both schemes).
A changed app key is an error: it is another app, not a new version of this one.

No database here: the scope catalogue is passed in.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from core.errors import ApplicationError
from marketplace.scopes import ScopeChange, normalise_scopes, scope_change
from versions.numbers import MAJOR, MINOR, PATCH, VersionNumber, parse_version
from versions.policies import Snapshot, upgrade_requires_consent
from versions.policies import free_to_paid as is_free_to_paid

CONNECT, FORGE = "connect", "forge"
DESCRIPTOR_SCHEMES = (CONNECT, FORGE)
FIRST_NUMBER = "1.0.0"
MAX_API_VERSION = 1000
MAX_DEPTH = 64
# Keys whose change the diff reports on its own line (not again as "changed: ...").
_CONNECT_REPORTED = {"apiVersion", "scopes", "enableLicensing"}
_FORGE_REPORTED = {"permissions.scopes", "app.licensing", "licensing"}


class DescriptorError(ApplicationError):
    """A descriptor that can't be used: invalid, or for another app."""

    def __init__(self, message: str, *, field: str | None = "descriptor", code: str = "invalid_descriptor"):
        super().__init__(message, field=field, code=code)


class KeyChangedError(DescriptorError):
    def __init__(self, message: str, *, field: str | None = "descriptor"):
        super().__init__(message, field=field, code="key_changed")


@dataclass(frozen=True)
class Descriptor:
    """A parsed descriptor: the facts the bump rules look at, plus the canonical document."""

    scheme: str
    key: str
    api_version: int
    scopes: tuple[str, ...]
    paid: bool
    canonical: dict[str, Any]
    hash: str

    @property
    def pricing(self) -> str:
        return "paid" if self.paid else "free"

    @property
    def canonical_json(self) -> str:
        return canonical_json(self.canonical)


@dataclass(frozen=True)
class DescriptorDiff:
    """What changed from one descriptor to the next and what that means for the number."""

    scheme: str
    bump: str | None  # major, minor, patch or None (unchanged)
    reasons: tuple[str, ...]
    consent_required: bool
    scopes: ScopeChange = field(default_factory=ScopeChange)
    free_to_paid: bool = False
    new_api_version: int | None = None  # set when a connect apiVersion changed
    first: bool = False  # the listing's first version from a descriptor
    other_changes: tuple[str, ...] = ()  # changed paths the number does not depend on

    @property
    def changed(self) -> bool:
        return self.bump is not None

    @property
    def bump_reason(self) -> str:
        """Why the scheme's rule made this bump, in a sentence for the vendor's poll history."""
        if self.bump is None:
            return "Nothing changed, so no new version."
        if self.first:
            return "MAJOR: the first version made from a descriptor is 1.0.0."
        what = []
        if self.scopes.added:
            what.append("scope" + ("s" if len(self.scopes.added) > 1 else "") + " added")
        if self.scopes.removed:
            what.append("scope" + ("s" if len(self.scopes.removed) > 1 else "") + " removed")
        if self.free_to_paid:
            what.append("free became paid")
        elif any(r.startswith("price ") for r in self.reasons):
            what.append("the price changed")
        said = " and ".join(what)
        others = ", ".join(self.other_changes) or "fields the number does not depend on"
        if self.scheme == CONNECT:
            if self.bump == MAJOR:
                return (
                    "MAJOR because the apiVersion changed: on connect a new apiVersion is a new MAJOR "
                    "(the number's MAJOR is the apiVersion)."
                )
            if self.bump == MINOR:
                return (
                    f"MINOR because {said}: on connect a scope or price change is a MINOR (the apiVersion is the same)."
                )
            return f"PATCH because only {others} changed: scopes, price and apiVersion are the same."
        if self.bump == MAJOR:
            return f"MAJOR because {said}: on forge a scope or price change is a MAJOR."
        return f"MINOR because only {others} changed: on forge every other manifest change is a MINOR."

    @property
    def bump_label(self) -> str:
        return self.bump or "none"

    def next_number(self, previous: VersionNumber | str | None) -> VersionNumber | None:
        """The number the new version gets; None when nothing changed.

        The first version of a listing is 1.0.0. A connect apiVersion change makes
        MAJOR the new apiVersion; if that would not be greater than the previous
        number (apiVersion going down, or numbers already past it), the next MAJOR
        is used so the number still goes up.
        """
        if previous is None:
            return parse_version(FIRST_NUMBER)
        if isinstance(previous, str):
            previous = parse_version(previous)
        if self.bump is None:
            return None
        if self.bump == MAJOR and self.new_api_version is not None:
            candidate = parse_version(f"{self.new_api_version}.0.0")
            if candidate > previous:
                return candidate
        return previous.bump(self.bump)

    def update_notes(self, limit: int = 500) -> str:
        """Update notes shown to customers, generated from the reasons."""
        text = "Automatic update: " + "; ".join(self.reasons) + "." if self.reasons else "Automatic update."
        if len(text) > limit:
            text = text[: limit - 1].rstrip() + "…"
        return text


# --- parsing ----------------------------------------------------------------------


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses YAML aliases: `*ref` expansion can blow a small file up."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise DescriptorError(f"YAML aliases are not allowed (line {event.start_mark.line + 1}).")
        return super().compose_node(parent, index)


def _decode(raw: str | bytes) -> str:
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DescriptorError(f"The descriptor is not UTF-8 text (byte {exc.start}).") from None
    if not raw.strip():
        raise DescriptorError("The descriptor is empty.")
    return raw


def _reject_constant(name: str) -> None:
    raise DescriptorError(f"{name} is not a valid JSON number.")


def load_json(raw: str | bytes) -> Any:
    text = _decode(raw)
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise DescriptorError(f"Invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).") from None
    except RecursionError:
        raise DescriptorError(f"The descriptor is nested too deeply (at most {MAX_DEPTH} levels).") from None
    except ValueError as exc:  # Python refuses to read integers of more than 4,300 digits
        raise DescriptorError(f"Invalid JSON: a number is too long ({_first_line(exc)}).") from None


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:120]


def load_yaml(raw: str | bytes) -> Any:
    text = _decode(raw)
    try:
        return yaml.load(text, Loader=_NoAliasLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DescriptorError(f"Invalid YAML: {problem}{where}.") from None
    except RecursionError:
        raise DescriptorError(f"The manifest is nested too deeply (at most {MAX_DEPTH} levels).") from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise DescriptorError(f"Invalid YAML: a number is too long ({_first_line(exc)}).") from None


def _plain(value: Any, depth: int = 0) -> Any:
    """JSON-compatible copy (YAML dates become ISO text, keys become text); refuses NaN and deep nesting."""
    if depth > MAX_DEPTH:
        raise DescriptorError(f"The descriptor is nested too deeply (at most {MAX_DEPTH} levels).")
    if isinstance(value, Mapping):
        return {str(k): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, depth + 1) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        raise DescriptorError("The descriptor contains a number that is not finite (NaN or infinity).")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def canonical_json(document: Any) -> str:
    """Sorted keys, no whitespace: the same text for the same meaning."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def descriptor_hash(document: Any) -> str:
    """SHA-256 of the canonical JSON (the same recipe as versions.validation.descriptor_hash)."""
    return hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()


def _scopes(raw: Any, where: str) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        raw = raw.replace(",", " ").split()
    if not isinstance(raw, list):
        raise DescriptorError(f"{where} must be a list of scope names.", field=where)
    names = []
    for item in raw:
        # Forge allows `- key: read:jira-work` entries beside plain strings.
        if isinstance(item, Mapping) and isinstance(item.get("key"), str):
            item = item["key"]
        if not isinstance(item, str):
            raise DescriptorError(f"{where}: scope {item!r} must be text such as read:jira-work.", field=where)
        names.append(item)
    try:
        return normalise_scopes(names, field_name=where)
    except DescriptorError:
        raise
    except ApplicationError as exc:
        raise DescriptorError(f"{where}: {exc.message}", field=where) from None


def _flag(raw: Any, where: str) -> bool:
    if raw is None:
        return False
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    raise DescriptorError(f"{where} must be true or false, got {raw!r}.", field=where)


def _key(raw: Any, where: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise DescriptorError(f"{where} is required: the app's key (text).", field=where)
    key = raw.strip()
    if len(key) > 255:
        raise DescriptorError(f"{where} is longer than 255 characters.", field=where)
    return key


def parse_connect(raw: str | bytes | Mapping[str, Any]) -> Descriptor:
    """Parse an Atlassian-Connect-style JSON descriptor."""
    document = _plain(raw if isinstance(raw, Mapping) else load_json(raw))
    if not isinstance(document, dict):
        raise DescriptorError("The descriptor must be a JSON object ({...}).")
    key = _key(document.get("key"), "key")
    api_raw = document.get("apiVersion", 1)
    if isinstance(api_raw, str) and api_raw.strip().isdigit():
        api_raw = int(api_raw.strip())
    if isinstance(api_raw, float) and api_raw.is_integer():
        api_raw = int(api_raw)
    if api_raw is None:
        api_raw = 1
    if not isinstance(api_raw, int) or isinstance(api_raw, bool) or not 1 <= api_raw <= MAX_API_VERSION:
        raise DescriptorError(
            f"apiVersion must be a whole number from 1 to {MAX_API_VERSION}, got {api_raw!r}.", field="apiVersion"
        )
    scopes = _scopes(document.get("scopes"), "scopes")
    paid = _flag(document.get("enableLicensing"), "enableLicensing")
    document.update(key=key, apiVersion=api_raw, scopes=scopes, enableLicensing=paid)
    return Descriptor(CONNECT, key, api_raw, tuple(scopes), paid, document, descriptor_hash(document))


def parse_forge(raw: str | bytes | Mapping[str, Any]) -> Descriptor:
    """Parse a Forge-style manifest (YAML, or JSON which is YAML too)."""
    document = _plain(raw if isinstance(raw, Mapping) else load_yaml(raw))
    if not isinstance(document, dict):
        raise DescriptorError("The manifest must be a YAML mapping (app:, modules:, permissions:).")
    app = document.get("app")
    if not isinstance(app, dict):
        raise DescriptorError("app is required: a mapping with the app's id.", field="app.id")
    key = _key(app.get("id"), "app.id")
    permissions = document.get("permissions")
    if permissions is None:
        permissions = {}
    if not isinstance(permissions, dict):
        raise DescriptorError("permissions must be a mapping (permissions: scopes: [...]).", field="permissions")
    scopes = _scopes(permissions.get("scopes"), "permissions.scopes")
    licensing = app.get("licensing", document.get("licensing"))
    where = "app.licensing.enabled" if "licensing" in app else "licensing.enabled"
    if isinstance(licensing, dict):
        paid = _flag(licensing.get("enabled"), where)
    else:
        paid = _flag(licensing, where.removesuffix(".enabled"))
    app["id"] = key
    if scopes or "scopes" in permissions:
        permissions["scopes"] = scopes
        document["permissions"] = permissions
    return Descriptor(FORGE, key, 1, tuple(scopes), paid, document, descriptor_hash(document))


def parse_descriptor(scheme: str, raw: str | bytes | Mapping[str, Any]) -> Descriptor:
    if scheme == CONNECT:
        return parse_connect(raw)
    if scheme == FORGE:
        return parse_forge(raw)
    raise DescriptorError(f"Scheme {scheme!r} has no descriptor: use connect or forge.", field="scheme")


def guess_scheme(filename: str) -> str:
    """forge for .yml/.yaml files, connect otherwise."""
    return FORGE if filename.lower().endswith((".yml", ".yaml")) else CONNECT


# --- diff ---------------------------------------------------------------------------


def _changed_paths(old: Any, new: Any, prefix: str = "", depth: int = 0) -> list[str]:
    """Dotted paths (two levels deep at most) whose canonical value differs."""
    if canonical_json(old) == canonical_json(new):
        return []
    if depth >= 2 or not (isinstance(old, dict) and isinstance(new, dict)):
        return [prefix or "(document)"]
    paths: list[str] = []
    for name in sorted(set(old) | set(new)):
        path = f"{prefix}.{name}" if prefix else name
        if name not in old:
            paths.append(f"{path} (added)")
        elif name not in new:
            paths.append(f"{path} (removed)")
        else:
            paths.extend(_changed_paths(old[name], new[name], path, depth + 1))
    return paths


DOCUMENT_CHANGES_MAX = 40
_VALUE_SHOWN_MAX = 120


def _shown(value: Any) -> str:
    text = canonical_json(value)
    return text if len(text) <= _VALUE_SHOWN_MAX else text[: _VALUE_SHOWN_MAX - 1] + "…"


def document_changes(old: Any, new: Any, *, limit: int = DOCUMENT_CHANGES_MAX) -> list[dict[str, str]]:
    """The descriptor diff a vendor reads: each changed path (three levels deep) with its values.

    [{"path": "scopes", "change": "changed", "before": '["read"]', "after": '["read","write"]'}, ...];
    `old` None (no earlier descriptor) lists nothing: everything is new. At most `limit`
    rows, then one row saying how many more.
    """
    if old is None:
        return []
    rows: list[dict[str, str]] = []

    def walk(before: Any, after: Any, path: str, depth: int) -> None:
        if canonical_json(before) == canonical_json(after):
            return
        if depth >= 3 or not (isinstance(before, dict) and isinstance(after, dict)):
            rows.append(
                {"path": path or "(document)", "change": "changed", "before": _shown(before), "after": _shown(after)}
            )
            return
        for name in sorted(set(before) | set(after)):
            sub = f"{path}.{name}" if path else str(name)
            if name not in before:
                rows.append({"path": sub, "change": "added", "before": "", "after": _shown(after[name])})
            elif name not in after:
                rows.append({"path": sub, "change": "removed", "before": _shown(before[name]), "after": ""})
            else:
                walk(before[name], after[name], sub, depth + 1)

    walk(old, new, "", 0)
    if len(rows) > limit:
        rows = [*rows[:limit], {"path": f"… and {len(rows) - limit} more", "change": "", "before": "", "after": ""}]
    return rows


def _other_changes(old: Descriptor, new: Descriptor, reported: set[str]) -> list[str]:
    paths = _changed_paths(old.canonical, new.canonical)
    return [p for p in paths if p.split(" ")[0] not in reported and not p.startswith("app.licensing")]


def _scope_reasons(change: ScopeChange) -> list[str]:
    reasons = [f"scope added: {s}" for s in change.added]
    reasons += [f"scope removed: {s}" for s in change.removed]
    return reasons


def diff_descriptors(old: Descriptor, new: Descriptor, catalogue: Mapping[str, int] | None = None) -> DescriptorDiff:
    """Compare two parsed descriptors of one app and decide the bump by the scheme's rules."""
    if old.scheme != new.scheme:
        raise DescriptorError(f"Cannot compare a {old.scheme} descriptor with a {new.scheme} one.", field="scheme")
    if old.key != new.key:
        where = "app.id" if new.scheme == FORGE else "key"
        raise KeyChangedError(
            f"The app key changed from {old.key!r} to {new.key!r}: a descriptor with another key is another app, "
            "not a new version of this one.",
            field=where,
        )
    scopes = scope_change(old.scopes, new.scopes, catalogue)
    free_to_paid = is_free_to_paid(old.pricing, new.pricing)
    # Whether customers must consent is the rollout's one policy; numbers don't matter for these schemes.
    consent = bool(
        upgrade_requires_consent(
            Snapshot("0.0.0", old.scopes, "paid" if old.paid else "free"),
            Snapshot("0.0.0", new.scopes, "paid" if new.paid else "free"),
            new.scheme,
            catalogue=catalogue,
        )
    )
    reasons: list[str] = []
    if old.hash == new.hash:
        return DescriptorDiff(new.scheme, None, (), False, scopes)
    if new.scheme == CONNECT:
        api_changed = old.api_version != new.api_version
        if api_changed:
            reasons.append(f"API version {old.api_version} -> {new.api_version}")
        reasons += _scope_reasons(scopes)
        reasons += _pricing_reasons(old, new)
        others = _other_changes(old, new, _CONNECT_REPORTED)
        if others:
            reasons.append("changed: " + ", ".join(others))
        if api_changed:
            bump = MAJOR
        elif scopes.changed or free_to_paid:
            bump = MINOR
        else:
            bump = PATCH
        return DescriptorDiff(
            CONNECT,
            bump,
            tuple(reasons),
            consent,
            scopes,
            free_to_paid,
            new.api_version if api_changed else None,
            other_changes=tuple(others),
        )
    reasons += _scope_reasons(scopes)
    reasons += _pricing_reasons(old, new)
    others = _other_changes(old, new, _FORGE_REPORTED)
    if others:
        reasons.append("changed: " + ", ".join(others))
    bump = MAJOR if scopes.changed or free_to_paid else MINOR
    return DescriptorDiff(FORGE, bump, tuple(reasons), consent, scopes, free_to_paid, other_changes=tuple(others))


def _pricing_reasons(old: Descriptor, new: Descriptor) -> list[str]:
    if old.paid == new.paid:
        return []
    return [f"price {old.pricing} -> {new.pricing}"]


def first_version_diff(new: Descriptor) -> DescriptorDiff:
    """The listing has no published version yet: the descriptor's first version is 1.0.0."""
    reasons = ["first version from the descriptor"]
    if new.scopes:
        reasons.append("scopes: " + ", ".join(new.scopes))
    return DescriptorDiff(new.scheme, MAJOR, tuple(reasons), False, first=True)


def snapshot_descriptor(scheme: str, key: str, *, scopes: list[str], paid: bool, api_version: int) -> Descriptor:
    """A stand-in for a published version that has no stored descriptor (made by hand before polling)."""
    canonical = {"key": key, "apiVersion": api_version, "scopes": sorted(scopes), "enableLicensing": paid}
    return Descriptor(scheme, key, api_version, tuple(sorted(scopes)), paid, canonical, descriptor_hash(canonical))


@dataclass(frozen=True)
class DiffReport:
    """What the pre-flight command and the API print: bump, next number, reasons, consent."""

    diff: DescriptorDiff
    next: VersionNumber | None

    def lines(self) -> list[str]:
        out = [f"bump: {self.diff.bump_label}"]
        if self.next is not None:
            out.append(f"next: {self.next}")
        out += [f"reason: {r}" for r in self.diff.reasons]
        out.append("consent: required" if self.diff.consent_required else "consent: not required")
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "bump": self.diff.bump_label,
            "next": str(self.next) if self.next is not None else None,
            "reasons": list(self.diff.reasons),
            "consent_required": self.diff.consent_required,
            "scopes_added": list(self.diff.scopes.added),
            "scopes_removed": list(self.diff.scopes.removed),
            "free_to_paid": self.diff.free_to_paid,
        }


def diff_documents(
    old_raw: str | bytes | Mapping[str, Any],
    new_raw: str | bytes | Mapping[str, Any],
    *,
    scheme: str,
    catalogue: Mapping[str, int] | None = None,
    from_number: str | None = None,
) -> DiffReport:
    """Parse both documents, diff them and (given the current number) say the next one."""
    previous = None
    if from_number is not None:
        from versions.numbers import VersionNumberError

        try:
            previous = parse_version(from_number.strip())
        except VersionNumberError as exc:
            raise DescriptorError(f"--from {from_number!r} is invalid: {exc.message}.", field="from") from None
    try:
        old = parse_descriptor(scheme, old_raw)
    except DescriptorError as exc:
        raise DescriptorError(f"old descriptor: {exc.message}", field="old") from None
    try:
        new = parse_descriptor(scheme, new_raw)
    except DescriptorError as exc:
        raise DescriptorError(f"new descriptor: {exc.message}", field="new") from None
    diff = diff_descriptors(old, new, catalogue)
    return DiffReport(diff, diff.next_number(previous) if previous is not None else None)


CONNECT_LIFECYCLE_EVENTS = ("installed", "uninstalled", "enabled", "disabled")


def connect_lifecycle_url(descriptor: Mapping[str, Any] | None, event: str) -> str:
    """The URL a connect app asks to be called at for a lifecycle event: baseUrl + lifecycle.<event>.

    "" when the descriptor names none, or its baseUrl is still a placeholder
    (``{{localBaseUrl}}``) or not an http(s) URL: there is nowhere to call.
    """
    if not isinstance(descriptor, Mapping):
        return ""
    lifecycle = descriptor.get("lifecycle")
    path = lifecycle.get(event) if isinstance(lifecycle, Mapping) else None
    base = descriptor.get("baseUrl")
    if not isinstance(path, str) or not path.strip() or not isinstance(base, str):
        return ""
    if "{{" in base or not base.startswith(("http://", "https://")):
        return ""
    if path.startswith(("http://", "https://")):
        return path if path.startswith(base.rstrip("/") + "/") else ""
    return base.rstrip("/") + "/" + path.strip().lstrip("/")
