"""The one page shape of list endpoints: `count`, `next`, `previous`, `results` (?page=N).

A page of one parent's rows may carry keys about that parent before `count`
(the site an installation list belongs to, the mirror feed's snapshot); a
pagination class names them in `extra_schema` so the OpenAPI page says so too.
"""

from __future__ import annotations

from typing import Any

from rest_framework import pagination
from rest_framework.response import Response


class PageNumberPagination(pagination.PageNumberPagination):
    extra_schema: dict[str, dict[str, Any]] = {}

    def get_paginated_response(self, data: Any, **extra: Any) -> Response:
        if unknown := set(extra) - set(self.extra_schema):
            raise TypeError(f"Undocumented page keys {sorted(unknown)}: name them in extra_schema.")
        return Response(
            {
                **extra,
                "count": self.page.paginator.count,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        page = super().get_paginated_response_schema(schema)
        if self.extra_schema:
            page["properties"] = {**self.extra_schema, **page["properties"]}
            page["required"] = [*self.extra_schema, *page.get("required", [])]
        return page
