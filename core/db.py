"""Database helpers for the hot paths and the workers.

- hot_cursor(): a hot path's fixed queries as prepared statements (PostgreSQL; below);
- model_from_values(): a model instance from such a query's raw row;
- summary() and JoinedText: several aggregates of one table in one pass, as one text value
  (the update check's ETag fingerprint, the scope catalogue's stamp);
- run_in_threads(): a worker's SKIP LOCKED batches on several threads at once.

Django's psycopg backend binds parameters on the client and turns psycopg's
automatic preparation off (for connection poolers), so PostgreSQL parses and
plans every statement on every request. For the update check the planning of
its wide joins costs about as much as running them. `hot_cursor()` hands out a
cursor that binds on the server and prepares each statement once per database
connection: later runs skip the parse and the plan (PostgreSQL still re-plans a
prepared statement whenever a table it reads changes shape or its statistics
move, so plans stay right).

The cursor is wrapped like Django's own (`connection.make_debug_cursor` /
`make_cursor`), so query logging, `CaptureQueriesContext` counts, execute
wrappers and error translation see it as any other query.

Behind a pooler in transaction mode that cannot carry prepared statements
(PgBouncer before 1.21), set DATABASE_PREPARED_STATEMENTS=off. SQLite and
that setting get Django's ordinary cursor.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import CharField, F, Func, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Coalesce


def _preparing_cursor_class() -> type:
    import psycopg

    class PreparingCursor(psycopg.Cursor):
        """Server-side binding; every statement prepared on its first run on this connection."""

        def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None, binary: Any = None) -> Any:
            return super().execute(query, params, prepare=True, binary=binary)

    return PreparingCursor


_PREPARING_CURSOR: type | None = None


@functools.cache
def _orjson_loader_class() -> type:
    import orjson
    from psycopg.adapt import Loader

    class OrjsonLoader(Loader):
        def load(self, data: Any) -> Any:
            return orjson.loads(data)

    return OrjsonLoader


def prepared_statements_enabled() -> bool:
    return connection.vendor == "postgresql" and settings.DATABASE_PREPARED_STATEMENTS


@contextlib.contextmanager
def hot_cursor(*, decode_json: bool = False) -> Iterator[Any]:
    """A cursor for queries that run on every request of a hot path (see the module's note).

    `decode_json`: jsonb columns arrive as Python data, decoded by orjson as psycopg reads them
    (Django's own cursors hand them over as text for the fields' from_db_value to decode).
    """
    global _PREPARING_CURSOR
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    connection.validate_thread_sharing()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    psycopg_connection = connection.connection
    with connection.wrap_database_errors:
        if prepared_statements_enabled():
            if _PREPARING_CURSOR is None:
                _PREPARING_CURSOR = _preparing_cursor_class()
            if psycopg_connection.prepare_threshold is None:
                # Django turns preparing off (None), and psycopg then ignores prepare=True too. A
                # threshold no query reaches keeps the rest as Django had it: only this cursor prepares.
                psycopg_connection.prepare_threshold = sys.maxsize
            raw = _PREPARING_CURSOR(psycopg_connection)
        else:
            raw = psycopg_connection.cursor()  # Django's own kind: bound on the client, never prepared
    if decode_json:
        raw.adapters.register_loader("jsonb", _orjson_loader_class())
    cursor = connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
    try:
        yield cursor
    finally:
        cursor.close()


def model_from_values(model: type, values: Any, attnames: tuple[str, ...] | None = None) -> Any:
    """An instance of `model` from a raw row of its concrete fields' columns, in field order, as
    the ORM would load it (each field's from_db_value applied: JSON text becomes data).
    `attnames`: only these fields (in field order) were read; the others are deferred, as with
    QuerySet.only() (reading one later costs a query)."""
    fields = [f for f in model._meta.concrete_fields if attnames is None or f.attname in attnames]
    converted = [
        field.from_db_value(value, None, connection) if hasattr(field, "from_db_value") else value
        for field, value in zip(fields, values, strict=True)
    ]
    return model.from_db(connection.alias, [field.attname for field in fields], converted)


class JoinedText(Func):
    """Texts joined with "|" in one flat expression (Concat nests a pair per argument, which
    SQLite's parser refuses past a few dozen)."""

    function = "CONCAT_WS"
    template = "%(function)s('|', %(expressions)s)"
    output_field = CharField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection, template="(%(expressions)s)", arg_joiner=" || '|' || ", **extra)


def summary(queryset: QuerySet, *aggregates: tuple[str, str]) -> Subquery:
    """One pass over `queryset` computing several aggregates ((field, SQL function) pairs), as one
    text ("-" for none): a scalar subquery with no GROUP BY (a Func is not an ORM aggregate)."""
    values = [
        Coalesce(Cast(Func(F(field), function=function), CharField()), Value("-")) for field, function in aggregates
    ]
    return Subquery(queryset.order_by().values(value=JoinedText(*values))[:1], output_field=CharField())


def run_in_threads(
    work: Callable[[float], tuple[int, bool]], *, threads: int, deadline: float, name: str
) -> tuple[int, bool]:
    """`work(deadline)` on `threads` threads of this process at once, each on its own database
    connection (closed when it ends), its results added up: (done, more left?). `work` must take
    its rows with SKIP LOCKED so the threads never share one. With one thread, on SQLite, or
    inside a transaction (tests: other threads could not see its rows) it runs here, once."""
    if threads <= 1 or connection.vendor != "postgresql" or connection.in_atomic_block:
        return work(deadline)

    def in_thread(until: float) -> tuple[int, bool]:
        try:
            return work(until)
        finally:
            connection.close()  # this thread's own connection

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix=name) as pool:
        results = list(pool.map(in_thread, [deadline] * threads))
    return sum(done for done, _ in results), any(more for _, more in results)
