"""A JSON renderer on orjson for hot read paths (the update check): the same JSON, made faster."""

from __future__ import annotations

from typing import Any

import orjson
from rest_framework.renderers import BaseRenderer
from rest_framework.utils.encoders import JSONEncoder

_drf_encoder = JSONEncoder()


def _default(value: Any) -> Any:
    """What orjson does not know (Decimal, lazy strings, querysets...): DRF's own encoder decides."""
    return _drf_encoder.default(value)


class ORJSONRenderer(BaseRenderer):
    """application/json through orjson. Datetimes render as DRF renders them (ISO 8601, UTC as Z)."""

    media_type = "application/json"
    format = "json"
    charset = None

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if data is None:
            return b""
        return orjson.dumps(data, default=_default, option=orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS)
