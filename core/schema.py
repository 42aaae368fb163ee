"""OpenAPI schema hooks (drf-spectacular POSTPROCESSING_HOOKS in settings)."""

from __future__ import annotations

from typing import Any

from core.serializers import ERROR_DESCRIPTIONS

ERROR_REF = {"$ref": "#/components/schemas/Error"}


def document_unauthenticated(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Every operation that needs credentials answers 401 without them: say so once, here,
    rather than in each view's decorator."""
    for item in result.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            security = operation.get("security", [])
            if security and {} not in security:
                operation["responses"].setdefault(
                    "401",
                    {"description": ERROR_DESCRIPTIONS[401], "content": {"application/json": {"schema": ERROR_REF}}},
                )
    return result
