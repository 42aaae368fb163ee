"""Inserting many new rows at once, fast, for the set-based services.

A rollout chunk or a batch of applied upgrades writes thousands of rows (the
upgrades, consent requests, their audit rows, the outbox's e-mails). Django's
`bulk_create` compiles and quotes every value in Python, which costs several
times what PostgreSQL needs to store the row; on PostgreSQL `bulk_insert`
streams the rows with COPY instead. Primary keys are drawn from the table's
sequence first, so the caller gets its objects back with their pks set, as
with `bulk_create`. Like `bulk_create` it sends no signals and calls no
`save()`; fields are prepared the same way (`pre_save` fills `auto_now_add`,
`get_db_prep_save` adapts JSON and dates). Other databases (SQLite in the
test suite) get `bulk_create`.

COPY knows no ON CONFLICT: rows that may already exist go through
`bulk_create(ignore_conflicts=True)`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import TypeVar

from django.db import connections, router
from django.db.models import Model

M = TypeVar("M", bound=Model)

# Fields whose Python value psycopg adapts as it is (Django's preparation returns it unchanged):
# the row's attribute is written directly. Dates, JSON and the rest go through pre_save and
# get_db_prep_save as in bulk_create.
_PLAIN_TYPES = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
        "CharField",
        "TextField",
        "BooleanField",
        "ForeignKey",
        "OneToOneField",
    }
)

# ... and on PostgreSQL (whose backend passes these through as they are): aware datetimes, UUIDs.
_PLAIN_ON_POSTGRES = frozenset({"DateTimeField", "UUIDField"})


def bulk_insert(objs: Iterable[M], *, with_pks: bool = True, batch_size: int = 500) -> list[M]:
    """Insert new, unsaved instances of one model; returns them, with their pks set when `with_pks`
    (one more query on PostgreSQL: rows nobody refers to, such as audit rows, can do without)."""
    objs = list(objs)
    if not objs:
        return objs
    model = type(objs[0])
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        return model.objects.bulk_create(objs, batch_size=batch_size)
    opts = model._meta
    missing = [obj for obj in objs if obj.pk is None]
    fields = [f for f in opts.concrete_fields if f.column and (with_pks or not missing or f is not opts.pk)]
    quote = connection.ops.quote_name
    sql = f"COPY {quote(opts.db_table)} ({', '.join(quote(f.column) for f in fields)}) FROM STDIN"
    with connection.cursor() as cursor:
        if missing and with_pks:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [opts.db_table, opts.pk.column, len(missing)],
            )
            for obj, (pk,) in zip(missing, cursor.fetchall(), strict=True):
                obj.pk = pk
        started = time.monotonic()
        plain = [f.get_internal_type() in _PLAIN_TYPES for f in fields]
        with cursor.cursor.copy(sql) as copy:
            for obj in objs:
                copy.write_row(
                    [
                        getattr(obj, f.attname) if is_plain else f.get_db_prep_save(f.pre_save(obj, True), connection)
                        for f, is_plain in zip(fields, plain, strict=True)
                    ]
                )
        if connection.queries_logged:  # visible to DEBUG's query log and to tests counting queries
            connection.queries_log.append(
                {"sql": f"{sql} -- {len(objs)} rows", "time": f"{time.monotonic() - started:.3f}"}
            )
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
    return objs


def bulk_insert_rows(model: type[Model], fields: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Insert new rows given as tuples of the values of `fields` (attnames: "site_id", "details"),
    without building a model instance per row; returns how many were inserted.

    For rows nobody reads back in the same breath (audit rows, outbox e-mails,
    consent links), where `bulk_insert`'s instances cost more than the COPY
    itself. Fields left out get their default, worked out once for the whole
    batch (`auto_now_add` is the batch's time): give per-row values, such as a
    uuid4 nonce, in `fields`. Other databases get `bulk_create`.
    """
    rows = rows if isinstance(rows, list) else list(rows)
    if not rows:
        return 0
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        objs = [model(**dict(zip(fields, row, strict=True))) for row in rows]
        return len(model.objects.bulk_create(objs, batch_size=500))
    opts = model._meta
    by_attname = {f.attname: f for f in opts.concrete_fields}
    given = [by_attname[name] for name in fields]
    others = [f for f in opts.concrete_fields if f.column and f not in given and f is not opts.pk]
    template = model()
    constants = [f.get_db_prep_save(f.pre_save(template, True), connection) for f in others]
    # JSON (and anything else psycopg cannot take as it is) is prepared per row, as bulk_create does.
    prepare = [
        None if f.get_internal_type() in _PLAIN_TYPES or f.get_internal_type() in _PLAIN_ON_POSTGRES else f
        for f in given
    ]
    columns = [*given, *others]
    quote = connection.ops.quote_name
    sql = f"COPY {quote(opts.db_table)} ({', '.join(quote(f.column) for f in columns)}) FROM STDIN"
    started = time.monotonic()
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        if any(prepare):
            for row in rows:
                copy.write_row(
                    [
                        *(
                            v if f is None else f.get_db_prep_save(v, connection)
                            for f, v in zip(prepare, row, strict=True)
                        ),
                        *constants,
                    ]
                )
        else:
            for row in rows:
                copy.write_row([*row, *constants])
    if connection.queries_logged:
        connection.queries_log.append(
            {"sql": f"{sql} -- {len(rows)} rows", "time": f"{time.monotonic() - started:.3f}"}
        )
    return len(rows)


def bulk_insert_rows_with_pks(model: type[Model], fields: Sequence[str], rows: Iterable[Sequence]) -> list[int]:
    """`bulk_insert_rows` for rows something else refers to in the same transaction (a rollout's
    new upgrades, named by their audit rows and e-mails): returns the new rows' pks, in order.

    On PostgreSQL the pks are drawn from the table's sequence first (one query) and streamed with
    the rows; elsewhere `bulk_create` returns them.
    """
    rows = rows if isinstance(rows, list) else list(rows)
    if not rows:
        return []
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        objs = [model(**dict(zip(fields, row, strict=True))) for row in rows]
        return [obj.pk for obj in model.objects.bulk_create(objs, batch_size=500)]
    pk = model._meta.pk
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, pk.column, len(rows)],
        )
        pks = [value for (value,) in cursor.fetchall()]
    bulk_insert_rows(model, (pk.attname, *fields), [(value, *row) for value, row in zip(pks, rows, strict=True)])
    return pks
