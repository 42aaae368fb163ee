"""Listing icons and screenshots: checked with Pillow before anything is stored."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from core.errors import ApplicationError
from core.models import AuditEvent
from marketplace import services
from marketplace.models import ListingScreenshot

pytestmark = pytest.mark.django_db


def png(size=(128, 128), fmt="PNG", name="icon.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_a_valid_icon_is_stored_under_media_root_and_audited(listing, vendor_user, media):
    services.listing_set_icon(listing=listing, actor=vendor_user, upload=png())
    listing.refresh_from_db()
    assert listing.icon.name == f"listing-icons/{listing.key}.png"
    assert (media / listing.icon.name).exists()
    assert AuditEvent.objects.filter(action="listing.update", object_id=listing.pk).exists()


@pytest.mark.parametrize(
    ("upload", "needle"),
    [
        (SimpleUploadedFile("icon.png", b"<script>not an image</script>"), "must be a PNG, JPEG or WebP image"),
        (png(fmt="GIF", name="icon.gif"), "(this one is GIF)"),
        (png(size=(32, 32)), "between 64×64 and 1024×1024 pixels (this one is 32×32)"),
        (png(size=(128, 100)), "must be square"),
        (SimpleUploadedFile("big.png", b"\x89PNG" + b"0" * (600 * 1024)), "at most 512 KB"),
    ],
    ids=["not-an-image", "gif", "too-small", "not-square", "too-big"],
)
def test_a_bad_icon_is_refused_naming_the_rule_and_nothing_is_stored(listing, vendor_user, media, upload, needle):
    with pytest.raises(ApplicationError) as caught:
        services.listing_set_icon(listing=listing, actor=vendor_user, upload=upload)
    assert needle in caught.value.message and caught.value.field == "icon"
    listing.refresh_from_db()
    assert not listing.icon and not list(media.rglob("*.*"))


def test_screenshots_have_their_own_limits(listing, vendor_user):
    shot = services.listing_add_screenshot(
        listing=listing, actor=vendor_user, upload=png(size=(960, 540)), caption="Overview"
    )
    assert shot.position == 0 and shot.image.name.endswith(".png")
    with pytest.raises(ApplicationError, match="Screenshot must be between 320×200"):
        services.listing_add_screenshot(listing=listing, actor=vendor_user, upload=png(size=(100, 100)))
    assert ListingScreenshot.objects.count() == 1


@pytest.mark.parametrize(
    ("description", "needle"),
    [
        ("Hi <script>alert(1)</script>", "HTML tags are not allowed (found '<script>')"),
        ('<img src=x onerror="alert(1)">', "HTML tags are not allowed"),
        ("x" * 20_001, "at most 20,000 characters"),
    ],
)
def test_a_description_with_html_is_refused_naming_the_field(listing, vendor_user, description, needle):
    with pytest.raises(ApplicationError) as caught:
        services.listing_update(listing=listing, actor=vendor_user, description=description)
    assert needle in caught.value.message and caught.value.field == "description"
    listing.refresh_from_db()
    assert listing.description == ""


def test_links_must_be_http_addresses(listing, vendor_user):
    with pytest.raises(ApplicationError, match="support link must be a full http") as caught:
        services.listing_update(listing=listing, actor=vendor_user, support_url="javascript:alert(1)")
    assert caught.value.field == "support_url"
    services.listing_update(
        listing=listing, actor=vendor_user, support_url="https://help.example.com", description="**Hi** a < b"
    )
    listing.refresh_from_db()
    assert listing.support_url == "https://help.example.com" and listing.description == "**Hi** a < b"
