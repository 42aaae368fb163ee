"""Version numbers: strict SemVer 2.0.0, pure code (no database).

Parsing and precedence come from the `semver` library. Before handing a string
to it we diagnose the common mistakes ourselves, because "not a valid SemVer
string" does not tell a vendor what to fix; `semver` stays the authority on
what is valid (a string passes only when both agree).

The sort key is a byte string whose bytewise order equals SemVer precedence,
so the database can order versions and answer "greater than every published
number" in SQL (bytea in PostgreSQL and BLOB in SQLite both compare bytewise,
whatever the collation).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from functools import total_ordering

import semver

MAJOR, MINOR, PATCH = "major", "minor", "patch"
BUMP_ORDER = {None: 0, "none": 0, PATCH: 1, MINOR: 2, MAJOR: 3}
# Numbers are stored in 8 bytes in the sort key; beyond this they are refused.
MAX_NUMBER = 2**63 - 1
MAX_LENGTH = 255
_CORE_NAMES = ("MAJOR", "MINOR", "PATCH")
_IDENT_RE = re.compile(r"^[0-9A-Za-z-]+$")
_BAD_CHAR_RE = re.compile(r"[^0-9A-Za-z-]")


class VersionNumberError(ValueError):
    """A version number that is not valid, with a message naming the problem."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _check_identifiers(part: str, what: str) -> list[str]:
    if part == "":
        raise VersionNumberError(f"{what} is empty after '{'-' if what == 'pre-release' else '+'}'")
    identifiers = part.split(".")
    for ident in identifiers:
        if ident == "":
            raise VersionNumberError(f"empty {what} identifier")
        bad = _BAD_CHAR_RE.search(ident)
        if bad:
            raise VersionNumberError(f"invalid character {bad.group()!r} in {what} identifier {ident!r}")
        if what == "pre-release" and ident.isdigit():
            if len(ident) > 1 and ident[0] == "0":
                raise VersionNumberError(f"leading zero in pre-release identifier {ident!r}")
            if len(ident) > 255:
                raise VersionNumberError(f"pre-release number {ident[:12]}... is too long")
    return identifiers


def _diagnose(text: str) -> None:
    """Raise VersionNumberError with a precise reason when `text` is not SemVer."""
    if not isinstance(text, str):
        raise VersionNumberError("version number must be text")
    if text == "":
        raise VersionNumberError("version number is empty")
    if len(text) > MAX_LENGTH:
        raise VersionNumberError(f"version number is longer than {MAX_LENGTH} characters")
    if text != text.strip() or any(c.isspace() for c in text):
        raise VersionNumberError("version number must not contain spaces")
    if text[0] in "vV":
        raise VersionNumberError("version number must not start with 'v': write 1.2.3, not v1.2.3")
    rest, plus, build = text.partition("+")
    if plus:
        _check_identifiers(build, "build metadata")
    core, dash, pre = rest.partition("-")
    parts = core.split(".")
    for index, part in enumerate(parts[:3]):
        name = _CORE_NAMES[index]
        if part == "":
            raise VersionNumberError(f"{name} number is empty")
        if not part.isdigit() or not part.isascii():
            bad = next((c for c in part if not (c.isascii() and c.isdigit())), part[0])
            if index == 2 and bad in "_~":
                raise VersionNumberError(
                    f"invalid character {bad!r} after PATCH number: a pre-release starts with '-' "
                    "(for example 1.2.3-beta.1)"
                )
            raise VersionNumberError(f"{name} must be a number, got {part!r} (invalid character {bad!r})")
        if len(part) > 1 and part[0] == "0":
            raise VersionNumberError(f"leading zero in {name}")
        if int(part) > MAX_NUMBER:
            raise VersionNumberError(f"{name} number is too large (at most {MAX_NUMBER})")
    if len(parts) == 1:
        raise VersionNumberError("missing MINOR and PATCH numbers: write MAJOR.MINOR.PATCH, for example 1.0.0")
    if len(parts) == 2:
        raise VersionNumberError("missing PATCH number: write MAJOR.MINOR.PATCH, for example 1.2.0")
    if len(parts) > 3:
        raise VersionNumberError(f"too many numbers: a version has exactly three (MAJOR.MINOR.PATCH), got {len(parts)}")
    if dash:
        if pre == "":
            raise VersionNumberError("pre-release identifier is empty: remove the '-' or add a tag after it")
        _check_identifiers(pre, "pre-release")


@total_ordering
@dataclass(frozen=True, eq=False)
class VersionNumber:
    """A parsed version number; equality and ordering are SemVer precedence."""

    text: str
    info: semver.Version

    @property
    def major(self) -> int:
        return self.info.major

    @property
    def minor(self) -> int:
        return self.info.minor

    @property
    def patch(self) -> int:
        return self.info.patch

    @property
    def prerelease(self) -> tuple[str, ...]:
        return tuple(self.info.prerelease.split(".")) if self.info.prerelease else ()

    @property
    def build(self) -> str:
        return self.info.build or ""

    @property
    def is_prerelease(self) -> bool:
        return bool(self.info.prerelease)

    def compare(self, other: VersionNumber) -> int:
        return self.info.compare(other.info)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VersionNumber) and self.compare(other) == 0

    def __lt__(self, other: VersionNumber) -> bool:
        return self.compare(other) < 0

    def __hash__(self) -> int:
        return hash(self.sort_key)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"VersionNumber({self.text!r})"

    @property
    def sort_key(self) -> bytes:
        return version_sort_key(self)

    def bump(self, kind: str) -> VersionNumber:
        """The next release number of `kind` (major, minor or patch), without pre-release."""
        if kind == MAJOR:
            return parse_version(str(self.info.bump_major()))
        if kind == MINOR:
            return parse_version(str(self.info.bump_minor()))
        if kind == PATCH:
            # A pre-release's next patch is its own release (1.2.3-beta -> 1.2.3).
            if self.is_prerelease:
                return parse_version(f"{self.major}.{self.minor}.{self.patch}")
            return parse_version(str(self.info.bump_patch()))
        raise ValueError(f"unknown bump {kind!r}")

    def with_major(self, major: int) -> VersionNumber:
        return parse_version(f"{major}.0.0")


def parse_version(text: str) -> VersionNumber:
    """Parse a strict SemVer 2.0.0 number or raise VersionNumberError naming the problem.

    Numbers recur (every site running 1.4.2 of an app asks about the same 1.5.0): valid ones are
    remembered (VersionNumber is immutable); an invalid one raises every time."""
    if not isinstance(text, str):
        _diagnose(text)  # raises: "version number must be text"
    return _parse_version(text)


@functools.lru_cache(maxsize=8192)
def _parse_version(text: str) -> VersionNumber:
    _diagnose(text)
    try:
        info = semver.Version.parse(text)
    except (ValueError, TypeError) as exc:  # pragma: no cover - _diagnose is stricter
        raise VersionNumberError(f"not a valid SemVer 2.0.0 number: {exc}") from exc
    return VersionNumber(text=text, info=info)


def is_valid_version(text: str) -> bool:
    try:
        parse_version(text)
    except VersionNumberError:
        return False
    return True


def compare_versions(a: str | VersionNumber, b: str | VersionNumber) -> int:
    a_ = a if isinstance(a, VersionNumber) else parse_version(a)
    b_ = b if isinstance(b, VersionNumber) else parse_version(b)
    return a_.compare(b_)


def sort_versions(texts: list[str]) -> list[str]:
    return [v.text for v in sorted(parse_version(t) for t in texts)]


# Sort key layout (bytes, compared bytewise):
#   MAJOR, MINOR, PATCH as 8-byte big-endian integers, then
#   0xFF for a release (sorts after any pre-release of the same triple), or
#   0x01 followed by the pre-release identifiers joined by 0x03, each one
#     0x10 <length byte> <digits>  for a numeric identifier (compares by value), or
#     0x20 <ascii bytes>           for an alphanumeric one (sorts after numeric ones).
# 0x03 is below every identifier character ('-' is 0x2D), so "a" < "a.b" < "a-b"
# as SemVer says (shorter identifier list first; ASCII order within an identifier).
# Build metadata does not count for precedence and is not in the key.
_RELEASE = b"\xff"
_PRERELEASE = b"\x01"
_SEP = b"\x03"
_NUMERIC = b"\x10"
_ALNUM = b"\x20"


def version_sort_key(version: str | VersionNumber) -> bytes:
    v = version if isinstance(version, VersionNumber) else parse_version(version)
    key = v.major.to_bytes(8, "big") + v.minor.to_bytes(8, "big") + v.patch.to_bytes(8, "big")
    if not v.is_prerelease:
        return key + _RELEASE
    encoded = []
    for ident in v.prerelease:
        if ident.isdigit():
            digits = str(int(ident)).encode()
            encoded.append(_NUMERIC + bytes([len(digits)]) + digits)
        else:
            encoded.append(_ALNUM + ident.encode("ascii"))
    return key + _PRERELEASE + _SEP.join(encoded)


def bump_kind(previous: VersionNumber, new: VersionNumber) -> str | None:
    """Which part went up from `previous` to `new` (None when `new` is not greater)."""
    if new <= previous:
        return None
    if new.major != previous.major:
        return MAJOR
    if new.minor != previous.minor:
        return MINOR
    return PATCH
