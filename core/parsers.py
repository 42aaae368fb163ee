"""Request body parsers for the API: the same as DRF's, but no body can crash a request."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class SafeJSONParser(JSONParser):
    """DRF's JSON parser, with a body nested deeper than Python's recursion limit refused as a 400.

    (DRF already turns malformed JSON, and integers of more than 4,300 digits,
    into a 400; a document nested 100,000 levels deep raised RecursionError.)
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
