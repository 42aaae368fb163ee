"""`field__any=[...]`: membership in a long list of values, sent as one array parameter.

`field__in=ids` with thousands of ids costs more in Python than in the
database: Django prepares and compiles every element, psycopg then scans a
statement with one placeholder per element, and PostgreSQL parses a different
statement for every length. The set-based services (a rollout chunk, a batch
of applied upgrades, an outbox batch) filter on thousands of ids several times
per transaction. On PostgreSQL `field__any=ids` is `field = ANY(%s)` with the
list as one array parameter: the same plan, without the per-element cost.
The array is typed as the column, so PostgreSQL hashes it as it hashes a long IN
list. Elsewhere (SQLite in the test suite) it is `field__in`.

The values must be plain (ints, strings) of the field's type: they are not
prepared one by one. Registered on every field by core.apps.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Lookup
from django.db.models.lookups import In


class AnyOf(Lookup):
    lookup_name = "any"
    prepare_rhs = False

    def get_prep_lookup(self) -> Any:
        if not isinstance(self.rhs, (list, tuple, set, frozenset)):
            raise TypeError(f"__any takes a list of values, not {type(self.rhs).__name__}")
        return list(self.rhs)

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list]:
        if connection.vendor != "postgresql":
            return compiler.compile(In(self.lhs, self.rhs))
        lhs, lhs_params = self.process_lhs(compiler, connection)
        # Typed as the column: psycopg would type [1, 2] as smallint[], and PostgreSQL hashes a long
        # array only when the comparison is of one type (bigint = bigint); across types it scans it
        # once per row.
        return f"{lhs} = ANY(%s::{self.lhs.output_field.cast_db_type(connection)}[])", [*lhs_params, self.rhs]
