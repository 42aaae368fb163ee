"""Version numbers: strict SemVer 2.0.0 parsing, messages, precedence and the sort key (pure)."""

import itertools

import pytest
import semver
from hypothesis import given
from hypothesis import strategies as st

from versions.numbers import (
    VersionNumberError,
    bump_kind,
    compare_versions,
    parse_version,
    sort_versions,
    version_sort_key,
)


@pytest.mark.parametrize(
    "text",
    [
        "0.0.0",
        "1.0.0",
        "1.2.3",
        "10.20.30",
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-0.3.7",
        "1.0.0-x.7.z.92",
        "1.0.0+20130313144700",
        "1.0.0-beta+exp.sha.5114f85",
        "1.0.0-x-y-z.--",
        "2.1.9-dev.4",
        "1.2.3-stash",
    ],
)
def test_valid_numbers_parse(text):
    number = parse_version(text)
    assert number.text == text
    assert str(number.info) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "version number is empty"),
        ("1", "missing MINOR and PATCH numbers"),
        ("1.0", "missing PATCH number"),
        ("1.2.3.4", "too many numbers"),
        ("01.2.3", "leading zero in MAJOR"),
        ("1.002.3", "leading zero in MINOR"),
        ("1.2.03", "leading zero in PATCH"),
        ("1.2.3-", "pre-release identifier is empty"),
        ("1.2.3-alpha..1", "empty pre-release identifier"),
        ("1.2.3-alpha.", "empty pre-release identifier"),
        ("1.2.3-be_ta", "invalid character '_' in pre-release"),
        ("1.2.3-dev.01", "leading zero in pre-release identifier '01'"),
        ("1.2.3+", "build metadata is empty"),
        ("1.2.3+a..b", "empty build metadata identifier"),
        ("v1.2.3", "must not start with 'v'"),
        (" 1.2.3", "must not contain spaces"),
        ("1.x.3", "MINOR must be a number"),
        ("1..3", "MINOR number is empty"),
        ("2.1.9_dev.2", "invalid character '_' after PATCH number"),
        ("1.2.3" + "0" * 300, "longer than 255"),
    ],
)
def test_invalid_numbers_name_the_problem(text, message):
    with pytest.raises(VersionNumberError) as exc:
        parse_version(text)
    assert message in exc.value.message


def test_semver_library_agrees_on_what_we_accept():
    for text in ["1.0.0-alpha", "1.2.3+build.5", "0.0.1-dev.1"]:
        assert semver.Version.is_valid(text)
    for text in ["1.0", "1.002.3", "1.2.3-"]:
        assert not semver.Version.is_valid(text)


CHAIN = [
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
]


def test_precedence_chain_of_the_specification():
    for lower, higher in itertools.pairwise(CHAIN):
        assert parse_version(lower) < parse_version(higher), (lower, higher)
        assert version_sort_key(lower) < version_sort_key(higher), (lower, higher)
    assert sort_versions(list(reversed(CHAIN))) == CHAIN


def test_prerelease_sorts_below_its_release():
    assert parse_version("1.2.3-stash") < parse_version("1.2.3")
    assert parse_version("1.2.3-bitbucket") < parse_version("1.2.3")
    assert parse_version("1.2.3") < parse_version("1.2.4-stash")


def test_numeric_identifiers_compare_as_numbers_and_build_is_ignored():
    assert parse_version("1.0.0-beta.11") > parse_version("1.0.0-beta.2")
    assert parse_version("2.0.0") < parse_version("10.0.0-rc.1")
    assert parse_version("10.0.0") > parse_version("9.99.99")
    assert compare_versions("1.0.0+build.1", "1.0.0+build.2") == 0
    assert version_sort_key("1.0.0+build.1") == version_sort_key("1.0.0")


def test_bump_and_bump_kind():
    assert str(parse_version("1.2.3").bump("major")) == "2.0.0"
    assert str(parse_version("1.2.3").bump("minor")) == "1.3.0"
    assert str(parse_version("1.2.3").bump("patch")) == "1.2.4"
    assert str(parse_version("1.2.3-beta.1").bump("patch")) == "1.2.3"
    assert bump_kind(parse_version("1.2.3"), parse_version("2.0.0")) == "major"
    assert bump_kind(parse_version("1.2.3"), parse_version("1.3.0")) == "minor"
    assert bump_kind(parse_version("1.2.3"), parse_version("1.2.4")) == "patch"
    assert bump_kind(parse_version("1.2.3"), parse_version("1.2.3")) is None
    assert bump_kind(parse_version("1.2.3"), parse_version("1.2.2")) is None


identifier = st.one_of(
    st.integers(min_value=0, max_value=10**12).map(str),
    st.text(alphabet="abcxyzABZ-09", min_size=1, max_size=6).filter(lambda s: not s.isdigit()),
)
versions = st.builds(
    lambda ma, mi, pa, pre, build: (
        f"{ma}.{mi}.{pa}" + (("-" + ".".join(pre)) if pre else "") + (("+" + ".".join(build)) if build else "")
    ),
    st.integers(0, 2**40),
    st.integers(0, 30),
    st.integers(0, 30),
    st.lists(identifier, max_size=4),
    st.lists(st.sampled_from(["b1", "sha", "001"]), max_size=2),
)


@given(versions, versions)
def test_sort_key_orders_exactly_as_semver_precedence(a, b):
    expected = semver.Version.parse(a).compare(semver.Version.parse(b))
    ka, kb = version_sort_key(a), version_sort_key(b)
    actual = (ka > kb) - (ka < kb)
    assert actual == expected, (a, b)
