"""The feed document's rules, without a database: every refusal names the field by its path."""

from __future__ import annotations

import copy

import pytest

from core.errors import ApplicationError
from mirror.feed import FEED_FORMAT, feed_url, mirrored_key, same_origin, validate_feed_page


def document(**overrides) -> dict:
    doc = {
        "format": FEED_FORMAT,
        "snapshot": "0123456789abcdef0123456789abcdef",
        "count": 1,
        "next": None,
        "previous": None,
        "results": [
            {
                "key": "acme-group",
                "name": "ACME app group",
                "summary": "",
                "scheme": "bundle",
                "pricing": "free",
                "vendor": "ACME Apps",
                "versions": [
                    {
                        "number": "1.2.0",
                        "build_number": 2,
                        "channel": "release",
                        "update_notes": "api 1 -> 2",
                        "components": [{"name": "api", "version": "2"}],
                        "scopes": [],
                        "pricing": "free",
                        "state": "published",
                        "published_at": "2026-11-20T10:00:00Z",
                    },
                    {
                        "number": "1.1.0",
                        "build_number": 1,
                        "channel": "release",
                        "update_notes": "First share.",
                        "components": [{"name": "api", "version": "1"}],
                        "scopes": [],
                        "pricing": "free",
                        "state": "superseded",
                        "published_at": "2026-11-19T10:00:00+00:00",
                    },
                ],
            }
        ],
    }
    doc.update(overrides)
    return doc


def test_a_valid_page_gives_listings_with_versions_in_the_order_they_went_live():
    page = validate_feed_page(document())
    (listing,) = page.listings
    assert (listing.key, listing.scheme, listing.vendor) == ("acme-group", "bundle", "ACME Apps")
    assert [v.number for v in listing.versions] == ["1.1.0", "1.2.0"]
    assert listing.versions[1].components == [{"name": "api", "version": "2"}]
    assert page.next is None and page.count == 1


def broken(path: list, value) -> dict:
    doc = copy.deepcopy(document())
    target = doc
    for part in path[:-1]:
        target = target[part]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


@pytest.mark.parametrize(
    ("path", "value", "field", "words"),
    [
        (["format"], "something-else/9", "format", "marketplace-mirror/1"),
        (["results", 0, "key"], "Bad Key!", "results[0].key", "does not match"),
        (["results", 0, "scheme"], "cobol", "results[0].scheme", "is not one of"),
        (["results", 0, "versions", 0, "number"], "1.2", "results[0].versions[0].number", "invalid"),
        (
            ["results", 0, "versions", 0, "components", 0, "version"],
            KeyError,
            "results[0].versions[0].components[0]",
            "required",
        ),
        (["results", 0, "versions", 0, "build_number"], "2", "results[0].versions[0].build_number", "integer"),
        (["results", 0, "versions", 0, "state"], "draft", "results[0].versions[0].state", "is not one of"),
        (
            ["results", 0, "versions", 0, "published_at"],
            "some day next week",
            "results[0].versions[0].published_at",
            "ISO 8601",
        ),
        (
            ["results", 0, "versions", 0, "published_at"],
            "2026-11-20T10:00:00",
            "results[0].versions[0].published_at",
            "time zone",
        ),
        (["results", 0, "versions", 0, "update_notes"], "x" * 501, "results[0].versions[0].update_notes", "long"),
        (["results", 0, "versions", 0, "members"], ["a@b.c"], "results[0].versions[0]", "Additional properties"),
        (["results", 0, "versions", 1, "number"], "1.2.0", "results[0].versions", "appears twice"),
        (["results", 0, "versions", 1, "state"], "published", "results[0].versions", "more than one published"),
        (["results"], "nope", "results", "array"),
    ],
)
def test_bad_documents_are_refused_naming_the_field(path, value, field, words):
    with pytest.raises(ApplicationError) as exc:
        validate_feed_page(broken(path, value))
    assert exc.value.field == field
    assert words in exc.value.message
    assert exc.value.message.startswith(field)


def test_a_listing_twice_on_a_page_and_a_non_object_are_refused():
    doc = document()
    doc["results"].append(copy.deepcopy(doc["results"][0]))
    with pytest.raises(ApplicationError, match=r"results\[1\].key: listing 'acme-group' appears twice"):
        validate_feed_page(doc)
    with pytest.raises(ApplicationError, match=r"document: .* is not of type 'object'"):
        validate_feed_page(["not", "a", "feed"])


def test_ocp_numbers_follow_the_ocp_rules():
    doc = document()
    doc["results"][0]["scheme"] = "ocp"
    doc["results"][0]["versions"][0]["number"] = "1.2.0-beta-2"
    with pytest.raises(ApplicationError, match="separate the tag and its counter"):
        validate_feed_page(doc)


@pytest.mark.parametrize("number", ["1.3.0-dev.1", "1.3.0-beta.1", "1.3.0-private"])
def test_an_ocp_dev_beta_or_private_version_in_a_feed_is_refused(number):
    """Issue 10, item 10: a misbehaving upstream can't bring a -dev version onto this portal's sites."""
    doc = document()
    doc["results"][0]["scheme"] = "ocp"
    doc["results"][0]["versions"][0]["number"] = number
    with pytest.raises(ApplicationError, match=r"results\[0\].versions\[0\].number: .* never mirrored") as exc:
        validate_feed_page(doc)
    assert exc.value.field == "results[0].versions[0].number"


def test_keys_and_origins():
    assert mirrored_key("up-", "acme-group") == "up-acme-group"
    assert mirrored_key("", "acme-group") == "acme-group"
    with pytest.raises(ApplicationError, match="breaks the key rule") as exc:
        mirrored_key("up-", "a" * 62)
    assert exc.value.field == "key"
    assert feed_url("https://market.example.com/") == "https://market.example.com/api/v1/mirror/listings"
    assert same_origin("http://127.0.0.1:81/a?page=2", "http://127.0.0.1:81/b")
    assert not same_origin("http://127.0.0.1:81/a", "http://127.0.0.1:82/a")
    assert not same_origin("http://127.0.0.1:81/a", "https://127.0.0.1:81/a")
    assert not same_origin("http://evil.example.com/a", "http://127.0.0.1/a")


def test_automatic_schemes_are_mirrored_as_manual_listings():
    from mirror.feed import local_scheme

    assert [local_scheme(s) for s in ("connect", "forge", "manual", "ocp", "bundle")] == [
        "manual",
        "manual",
        "manual",
        "ocp",
        "bundle",
    ]
