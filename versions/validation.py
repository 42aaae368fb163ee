"""Field rules for a version snapshot (pure: no database).

Each function returns the cleaned value or raises ApplicationError naming the
field and the rule. Services call them; forms and the API reach them through
the services, so a rule is written once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from core.errors import ApplicationError
from marketplace.scopes import normalise_scopes
from versions.numbers import VersionNumber, VersionNumberError
from versions.schemes import validate_number

UPDATE_NOTES_MAX = 500
MAX_SCOPES = 100
MAX_MEMBERS = 200
MAX_COMPONENTS = 100
CHANNEL_RULE = "1 to 40 lower-case letters, digits or hyphens, starting with a letter"


def clean_number(scheme: str, text: Any) -> VersionNumber:
    if not isinstance(text, str):
        raise ApplicationError("Version number must be text such as 1.2.3.", field="number")
    try:
        return validate_number(scheme, text.strip())
    except VersionNumberError as exc:
        raise ApplicationError(f"Version number {text.strip()!r} is invalid: {exc.message}.", field="number") from exc


def clean_update_notes(notes: Any) -> str:
    if not isinstance(notes, str) or not notes.strip():
        raise ApplicationError(
            "Update notes are required (1 to 500 characters, shown to customers).", field="update_notes"
        )
    notes = notes.strip()
    if len(notes) > UPDATE_NOTES_MAX:
        raise ApplicationError(
            f"Update notes must be at most {UPDATE_NOTES_MAX} characters (these are {len(notes)}).",
            field="update_notes",
        )
    return notes


def clean_scopes(scopes: Any) -> list[str]:
    if scopes is None:
        return []
    if isinstance(scopes, str):
        scopes = list(scopes.replace(",", " ").split())
    if not isinstance(scopes, Iterable):
        raise ApplicationError("Scopes must be a list of scope names.", field="scopes")
    cleaned = normalise_scopes(list(scopes), field_name="scopes")
    if len(cleaned) > MAX_SCOPES:
        raise ApplicationError(f"A version may ask for at most {MAX_SCOPES} scopes.", field="scopes")
    return cleaned


def clean_members(members: Any) -> list[str]:
    if members is None:
        return []
    if isinstance(members, str):
        members = members.replace(",", " ").split()
    cleaned = set()
    for raw in members:
        email = str(raw).strip().lower()
        try:
            validate_email(email)
        except ValidationError as exc:
            raise ApplicationError(f"Member {raw!r} is not a valid e-mail address.", field="members") from exc
        cleaned.add(email)
    if len(cleaned) > MAX_MEMBERS:
        raise ApplicationError(f"A version may list at most {MAX_MEMBERS} members.", field="members")
    return sorted(cleaned)


def clean_pricing(pricing: Any) -> str:
    if pricing not in ("free", "paid"):
        raise ApplicationError("Pricing must be 'free' or 'paid'.", field="pricing")
    return pricing


def clean_api_version(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ApplicationError("API version must be a whole number of 1 or more.", field="api_version") from None
    if number < 1 or number > 1000:
        raise ApplicationError("API version must be between 1 and 1000.", field="api_version")
    return number


def clean_channel(value: Any) -> str:
    import re

    channel = (value or "release").strip() if isinstance(value, str | type(None)) else value
    if not isinstance(channel, str) or not re.match(r"^[a-z][a-z0-9-]{0,39}$", channel):
        raise ApplicationError(f"Channel {value!r} is invalid: {CHANNEL_RULE}.", field="channel")
    return channel


def clean_compatibility(entries: Any, known_products: Iterable[str]) -> list[dict[str, str]]:
    """[{"product": key, "min": "9.0", "max": "10.1"}]; min and max are optional."""
    if not entries:
        return []
    if not isinstance(entries, list):
        raise ApplicationError("Host compatibility must be a list of {product, min, max}.", field="compatibility")
    known = set(known_products)
    cleaned = []
    seen = set()
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("product"), str):
            raise ApplicationError("Each host compatibility entry needs a product key.", field="compatibility")
        product = entry["product"].strip()
        if product not in known:
            raise ApplicationError(f"Host product {product!r} is not known to the marketplace.", field="compatibility")
        if product in seen:
            raise ApplicationError(f"Host product {product!r} is listed twice.", field="compatibility")
        seen.add(product)
        item = {"product": product}
        for bound in ("min", "max"):
            value = entry.get(bound)
            if value in (None, ""):
                continue
            value = str(value).strip()
            if not _product_version_tuple(value):
                raise ApplicationError(
                    f"{bound} version {value!r} for {product} must be dotted numbers such as 9.4 or 9.4.1.",
                    field="compatibility",
                )
            item[bound] = value
        if (
            "min" in item
            and "max" in item
            and _product_version_tuple(item["min"]) > _product_version_tuple(item["max"])
        ):
            raise ApplicationError(
                f"For {product}, min {item['min']} is above max {item['max']}.", field="compatibility"
            )
        cleaned.append(item)
    return sorted(cleaned, key=lambda i: i["product"])


def _product_version_tuple(text: str) -> tuple[int, ...] | None:
    parts = text.split(".")
    if not 1 <= len(parts) <= 4 or not all(p.isdigit() and len(p) <= 9 for p in parts):
        return None
    return tuple(int(p) for p in parts)


def product_version_in_range(version: str, entry: dict[str, str]) -> bool:
    """Is a host product version inside a compatibility entry's min..max (inclusive)?"""
    current = _product_version_tuple(version) if version else None
    if current is None:
        return True
    if "min" in entry and current < _product_version_tuple(entry["min"]):
        return False
    if "max" in entry:
        upper = _product_version_tuple(entry["max"])
        # "max 10.1" admits every 10.1.x
        if current[: len(upper)] > upper:
            return False
    return True


def clean_components(entries: Any) -> list[dict[str, str]]:
    if not entries:
        return []
    if not isinstance(entries, list):
        raise ApplicationError("Components must be a list of {name, version}.", field="components")
    cleaned = {}
    for entry in entries:
        if (
            not isinstance(entry, dict)
            or not str(entry.get("name", "")).strip()
            or not str(entry.get("version", "")).strip()
        ):
            raise ApplicationError("Each component needs a name and a version.", field="components")
        name = str(entry["name"]).strip()
        if name in cleaned:
            raise ApplicationError(f"Component {name!r} is listed twice.", field="components")
        cleaned[name] = {"name": name, "version": str(entry["version"]).strip()[:100]}
    if len(cleaned) > MAX_COMPONENTS:
        raise ApplicationError(f"A bundle may have at most {MAX_COMPONENTS} components.", field="components")
    return [cleaned[k] for k in sorted(cleaned)]


def descriptor_hash(descriptor: Any) -> str:
    """SHA-256 of the canonical JSON (sorted keys, no whitespace)."""
    if descriptor is None:
        return ""
    canonical = json.dumps(descriptor, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
