"""The mirror feed document: its schema and the strict checks a downstream portal runs (pure).

An upstream portal serves its public listings and their released versions as
pages of this document; a downstream portal (the internal market) validates
every page before it changes anything. Anything unexpected is refused with a
message naming the field by its path (``results[2].versions[0].number``), so
an operator can tell the upstream what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from core.errors import ApplicationError
from versions.numbers import VersionNumberError
from versions.schemes import AUTOMATIC_SCHEMES, MANUAL, OCP, OCP_TAGS, SCHEMES, ocp_audience, validate_number
from versions.validation import MAX_COMPONENTS, MAX_SCOPES, UPDATE_NOTES_MAX

FEED_FORMAT = "marketplace-mirror/1"
FEED_PATH = "/api/v1/mirror/listings"
KEY_PATTERN = r"^[a-z][a-z0-9-]{1,62}$"
MAX_VERSIONS_PER_LISTING = 1000
MAX_LISTINGS_PER_PAGE = 1000

_VERSION = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "number",
        "build_number",
        "channel",
        "update_notes",
        "components",
        "scopes",
        "pricing",
        "state",
        "published_at",
    ],
    "properties": {
        "number": {"type": "string", "minLength": 1, "maxLength": 255},
        "build_number": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
        "channel": {"type": "string", "pattern": r"^[a-z][a-z0-9-]{0,39}$"},
        "update_notes": {"type": "string", "minLength": 1, "maxLength": UPDATE_NOTES_MAX},
        "components": {
            "type": "array",
            "maxItems": MAX_COMPONENTS,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "version"],
                "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": 100},
                    "version": {"type": "string", "minLength": 1, "maxLength": 100},
                },
            },
        },
        "scopes": {
            "type": "array",
            "maxItems": MAX_SCOPES,
            "items": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9:._\-]{0,99}$"},
        },
        "pricing": {"enum": ["free", "paid"]},
        "state": {"enum": ["published", "superseded"]},
        "published_at": {"type": "string", "minLength": 10, "maxLength": 40},
    },
}

FEED_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["format", "snapshot", "count", "next", "previous", "results"],
    "properties": {
        "format": {"const": FEED_FORMAT},
        "snapshot": {"type": "string", "pattern": r"^[0-9a-f]{16,64}$"},
        "count": {"type": "integer", "minimum": 0},
        "next": {"type": ["string", "null"], "maxLength": 2000},
        "previous": {"type": ["string", "null"], "maxLength": 2000},
        "results": {
            "type": "array",
            "maxItems": MAX_LISTINGS_PER_PAGE,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["key", "name", "summary", "scheme", "pricing", "vendor", "versions"],
                "properties": {
                    "key": {"type": "string", "pattern": KEY_PATTERN},
                    "name": {"type": "string", "minLength": 1, "maxLength": 120},
                    "summary": {"type": "string", "maxLength": 255},
                    "scheme": {"enum": list(SCHEMES)},
                    "pricing": {"enum": ["free", "paid"]},
                    "vendor": {"type": "string", "minLength": 1, "maxLength": 120},
                    "versions": {"type": "array", "maxItems": MAX_VERSIONS_PER_LISTING, "items": _VERSION},
                },
            },
        },
    },
}

_VALIDATOR = Draft202012Validator(FEED_SCHEMA)


@dataclass(frozen=True)
class FeedVersion:
    number: str
    build_number: int
    channel: str
    update_notes: str
    components: list[dict[str, str]]
    scopes: list[str]
    pricing: str
    state: str
    published_at: datetime


@dataclass(frozen=True)
class FeedListing:
    key: str
    name: str
    summary: str
    scheme: str
    pricing: str
    vendor: str
    versions: tuple[FeedVersion, ...]  # in the order they went live upstream


@dataclass(frozen=True)
class FeedPage:
    snapshot: str
    count: int
    next: str | None
    listings: tuple[FeedListing, ...]


def _path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "document"


def validate_feed_page(document: Any) -> FeedPage:
    """Check one feed page against the schema and the version rules; raises ApplicationError naming the field."""
    error = best_match(_VALIDATOR.iter_errors(document))
    if error is not None:
        raise ApplicationError(f"{_path(error.absolute_path)}: {error.message}.", field=_path(error.absolute_path))
    listings: list[FeedListing] = []
    seen_keys: set[str] = set()
    for i, raw in enumerate(document["results"]):
        where = f"results[{i}]"
        if raw["key"] in seen_keys:
            raise ApplicationError(f"{where}.key: listing {raw['key']!r} appears twice.", field=f"{where}.key")
        seen_keys.add(raw["key"])
        versions = [_version(raw["scheme"], v, f"{where}.versions[{j}]") for j, v in enumerate(raw["versions"])]
        numbers = [v.number for v in versions]
        duplicate = next((n for n in numbers if numbers.count(n) > 1), None)
        if duplicate is not None:
            raise ApplicationError(
                f"{where}.versions: {raw['key']}@{duplicate} appears twice.", field=f"{where}.versions"
            )
        live = [v for v in versions if v.state == "published"]
        channels = [v.channel for v in live]
        if len(channels) != len(set(channels)):
            raise ApplicationError(
                f"{where}.versions: more than one published version in one channel.", field=f"{where}.versions"
            )
        versions.sort(key=lambda v: (v.published_at, v.build_number))
        listings.append(
            FeedListing(
                key=raw["key"],
                name=raw["name"].strip() or raw["key"],
                summary=raw["summary"].strip(),
                scheme=raw["scheme"],
                pricing=raw["pricing"],
                vendor=raw["vendor"].strip(),
                versions=tuple(versions),
            )
        )
    return FeedPage(
        snapshot=document["snapshot"], count=document["count"], next=document["next"], listings=tuple(listings)
    )


def _version(scheme: str, raw: dict[str, Any], where: str) -> FeedVersion:
    try:
        number = validate_number(scheme, raw["number"])
    except VersionNumberError as exc:
        raise ApplicationError(f"{where}.number: {raw['number']!r} is invalid: {exc.message}.", field=f"{where}.number")
    if scheme == OCP and ocp_audience(number) in OCP_TAGS:
        # An upstream portal never lists them (mirror.selectors.feed_versions): a -dev version runs only
        # on its vendor's sandbox, -beta and -private only where that vendor let them.
        raise ApplicationError(
            f"{where}.number: {number.text} is an OCP -{ocp_audience(number)} version: those stay on their "
            "own portal and are never mirrored.",
            field=f"{where}.number",
        )
    try:
        published_at = datetime.fromisoformat(raw["published_at"].replace("Z", "+00:00"))
    except ValueError:
        raise ApplicationError(
            f"{where}.published_at: {raw['published_at']!r} is not an ISO 8601 date and time.",
            field=f"{where}.published_at",
        ) from None
    if published_at.tzinfo is None:
        raise ApplicationError(f"{where}.published_at: the time zone is missing.", field=f"{where}.published_at")
    names = [c["name"] for c in raw["components"]]
    if len(names) != len(set(names)):
        raise ApplicationError(f"{where}.components: a component is listed twice.", field=f"{where}.components")
    return FeedVersion(
        number=number.text,
        build_number=raw["build_number"],
        channel=raw["channel"],
        update_notes=raw["update_notes"],
        components=[{"name": c["name"], "version": c["version"]} for c in raw["components"]],
        scopes=list(raw["scopes"]),
        pricing=raw["pricing"],
        state=raw["state"],
        published_at=published_at,
    )


def local_scheme(upstream_scheme: str) -> str:
    """The scheme of the local mirror of a listing.

    Connect and forge listings get their versions from the vendor's descriptor
    or deploys upstream; here they come from the feed, so the mirror is a
    manual listing (nothing polls the vendor twice). The others keep theirs:
    OCP's audiences and the bundle's component rule still apply.
    """
    return MANUAL if upstream_scheme in AUTOMATIC_SCHEMES else upstream_scheme


def feed_url(base_url: str) -> str:
    """The feed's first page under an upstream portal's base URL."""
    return base_url.rstrip("/") + FEED_PATH


def same_origin(a: str, b: str) -> bool:
    """Pages must come from the upstream itself: a `next` link may not send us (and our token) elsewhere."""
    try:
        left, right = urlsplit(a), urlsplit(b)
        return (left.scheme, left.hostname, left.port) == (right.scheme, right.hostname, right.port)
    except ValueError:
        return False


def mirrored_key(prefix: str, upstream_key: str) -> str:
    """The local key of an upstream listing (`prefix` + key); raises when it breaks the local key rule."""
    import re

    key = f"{prefix}{upstream_key}"
    if not re.match(KEY_PATTERN, key):
        raise ApplicationError(
            f"Upstream listing {upstream_key!r} would be {key!r} here, which breaks the key rule "
            "(a lower-case letter, then 1 to 62 lower-case letters, digits or hyphens).",
            field="key",
        )
    return key
