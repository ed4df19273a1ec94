"""Bulk writes for lineage ingest, where per-row Python work in Django and psycopg is the bottleneck.

On PostgreSQL a whole batch of rows travels as one JSON document, unpacked by `jsonb_to_recordset`:
libpq quotes one string in C and the server parses it, instead of Django preparing and psycopg quoting
(or array-escaping, for bulk_create's UNNEST) every value of every row in Python. Other databases take
Django's bulk_create and a VALUES join, which give the same result.

Rows are dicts keyed by field attname (`dataset_id`, not `dataset`); every row of a call has the same keys.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence

from django.db import connection, models

_CHUNK = 2000


def _json_value(field: models.Field, value):
    if value is None or isinstance(field, models.JSONField):
        return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive datetime for {field.name}")
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _recordset(model: type[models.Model], names: Sequence[str]) -> tuple[list[models.Field], str]:
    """The fields for the attnames and the `data(c0 type, …)` column list for jsonb_to_recordset."""
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    fields = [by_attname[name] for name in names]
    columns = ", ".join(f"c{i} {field.db_type(connection).split('(')[0]}" for i, field in enumerate(fields))
    return fields, columns


def _document(fields: Sequence[models.Field], rows: Sequence[Sequence]) -> str:
    return json.dumps(
        [
            {f"c{i}": _json_value(field, value) for i, (field, value) in enumerate(zip(fields, row, strict=True))}
            for row in rows
        ],
        separators=(",", ":"),
    )


def _attname_value(obj: models.Model, field: models.Field):
    """A field's column value; for a relation set before its target was saved, the target's key now."""
    if field.is_relation and field.is_cached(obj):
        related = field.get_cached_value(obj)
        return related.pk if related is not None else None
    return getattr(obj, field.attname)


def instance_row(obj: models.Model) -> dict:
    """A model instance as a row for `insert_rows`: every concrete field but the primary key."""
    return {f.attname: _attname_value(obj, f) for f in obj._meta.concrete_fields if not f.primary_key}


def insert_rows(
    model: type[models.Model],
    rows: Sequence[dict],
    *,
    conflict: Sequence[str] = (),
    update: Sequence[str] = (),
    returning: Sequence[str] = (),
) -> list[tuple]:
    """INSERT the rows; on a `conflict` (attnames of a unique constraint) update `update`, or skip the row.

    Returns the `returning` attnames of every row written, in no set order. PostgreSQL returns nothing for a
    skipped row; other databases return every row.
    """
    if not rows:
        return []
    names = list(rows[0])
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    if connection.vendor != "postgresql":
        objs = [model(**row) for row in rows]
        model.objects.bulk_create(
            objs,
            ignore_conflicts=bool(conflict) and not update,
            update_conflicts=bool(update),
            unique_fields=[by_attname[n].name for n in conflict] if update else None,
            update_fields=[by_attname[n].name for n in update] if update else None,
        )
        # Django cannot tell which rows a skipping insert skipped, so every row is returned here: callers
        # check for existing rows first, in a transaction that (on SQLite) no other writer can enter.
        return [tuple(getattr(obj, name) for name in returning) for obj in objs] if returning else []

    quote = connection.ops.quote_name
    fields, columns = _recordset(model, names)
    target = ", ".join(quote(f.column) for f in fields)
    source = ", ".join(f"data.c{i}" for i in range(len(fields)))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({target}) SELECT {source} FROM jsonb_to_recordset(%s::jsonb) AS data({columns})"  # noqa: S608,E501 - names from the model
    if conflict:
        sql += f" ON CONFLICT ({', '.join(quote(by_attname[n].column) for n in conflict)}) DO "
        if update:
            sql += "UPDATE SET " + ", ".join(
                f"{quote(by_attname[n].column)} = EXCLUDED.{quote(by_attname[n].column)}" for n in update
            )
        else:
            sql += "NOTHING"
    if returning:
        sql += " RETURNING " + ", ".join(quote(by_attname[n].column) for n in returning)
    result: list[tuple] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _CHUNK):
            chunk = rows[start : start + _CHUNK]
            cursor.execute(sql, [_document(fields, [[row[n] for n in names] for row in chunk])])
            if returning:
                result += cursor.fetchall()
    return result


def bulk_update_values(model: type[models.Model], objs: Sequence[models.Model], fields: Sequence[str]) -> None:
    """UPDATE the given fields of many model instances in one statement per chunk.

    Django's bulk_update builds a CASE per field and row, which costs more to compile than the database
    takes to run it; this joins the table with the new values instead.
    """
    if not objs:
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    pk = model._meta.pk
    columns = [model._meta.get_field(name) for name in fields]
    assignments = ", ".join(f"{quote(field.column)} = data.c{i}" for i, field in enumerate(columns, start=1))
    postgres = connection.vendor == "postgresql"
    if postgres:
        record_fields, record_columns = _recordset(model, [pk.attname] + [f.attname for f in columns])
    for start in range(0, len(objs), _CHUNK):
        chunk = objs[start : start + _CHUNK]
        if postgres:
            rows = [[obj.pk] + [_attname_value(obj, f) for f in columns] for obj in chunk]
            sql = (
                f"UPDATE {table} SET {assignments} "  # noqa: S608 - names from the model
                f"FROM jsonb_to_recordset(%s::jsonb) AS data({record_columns}) "
                f"WHERE {table}.{quote(pk.column)} = data.c0"
            )
            params = [_document(record_fields, rows)]
        else:
            params = []
            values = []
            for obj in chunk:
                params.append(pk.get_db_prep_save(obj.pk, connection))
                params.extend(f.get_db_prep_save(_attname_value(obj, f), connection) for f in columns)
                values.append("(" + ", ".join(["%s"] * (len(columns) + 1)) + ")")
            names = ", ".join(f"c{i}" for i in range(len(columns) + 1))
            sql = (
                f"WITH data({names}) AS (VALUES {', '.join(values)}) "  # noqa: S608 - names from the model
                f"UPDATE {table} SET {assignments} FROM data WHERE {table}.{quote(pk.column)} = data.c0"
            )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
