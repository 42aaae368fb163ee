"""Uploaded images of a listing (icon, screenshots): checked with Pillow before anything is stored.

The rules: a real PNG, JPEG or WebP image (the bytes decide, never the file
name or the browser's content type), within a byte size and pixel size range.
Pillow's own decompression-bomb guard stays on; the image is fully decoded
once (`load`) so a truncated or corrupt file is refused here, not on a page.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from PIL import Image, UnidentifiedImageError

from core.errors import ApplicationError

ALLOWED_FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}


@dataclass(frozen=True)
class ImageRule:
    label: str
    max_bytes: int
    min_px: tuple[int, int]
    max_px: tuple[int, int]
    square: bool = False


ICON = ImageRule("Icon", max_bytes=512 * 1024, min_px=(64, 64), max_px=(1024, 1024), square=True)
SCREENSHOT = ImageRule("Screenshot", max_bytes=4 * 1024 * 1024, min_px=(320, 200), max_px=(3840, 2400))


def clean_image(upload: Any, rule: ImageRule, *, field: str) -> str:
    """Check an uploaded file against the rule; return the file extension to store it under."""
    if upload is None:
        raise ApplicationError(f"{rule.label}: choose an image file to upload.", field=field)
    size = getattr(upload, "size", None)
    if size is None or size > rule.max_bytes:
        raise ApplicationError(
            f"{rule.label} must be at most {rule.max_bytes // 1024:,} KB"
            + (f" (this file is {size // 1024:,} KB)." if size else "."),
            field=field,
        )
    upload.seek(0)
    data = upload.read(rule.max_bytes + 1)
    upload.seek(0)
    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt = image.format
            width, height = image.size
            image.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise ApplicationError(
            f"{rule.label} must be a PNG, JPEG or WebP image; this file is not one Pillow can read.", field=field
        ) from None
    if fmt not in ALLOWED_FORMATS:
        raise ApplicationError(f"{rule.label} must be a PNG, JPEG or WebP image (this one is {fmt}).", field=field)
    (min_w, min_h), (max_w, max_h) = rule.min_px, rule.max_px
    if not (min_w <= width <= max_w and min_h <= height <= max_h):
        raise ApplicationError(
            f"{rule.label} must be between {min_w}×{min_h} and {max_w}×{max_h} pixels (this one is {width}×{height}).",
            field=field,
        )
    if rule.square and width != height:
        raise ApplicationError(f"{rule.label} must be square (this one is {width}×{height} pixels).", field=field)
    return ALLOWED_FORMATS[fmt]
