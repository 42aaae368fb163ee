"""The storefront's GIN index without a pending list (PostgreSQL only; SQLite has no such index).

With GIN's default `fastupdate = on`, rows written since the last VACUUM wait in an
unsorted pending list that every search reads page by page, and the planner prices
that list in: after `listing_search_refresh` rewrites the documents, a prefix search
read ~110 pending pages and the planner chose a sequential scan over the index. A
catalogue is searched far more often than it is edited, so writes go straight into
the index instead, and the entries already waiting are merged now.
"""

from django.db import migrations

INDEX = "listing_search_vector_gin"  # made by 0005_storefront_listing_fields


def fastupdate_off(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER INDEX {INDEX} SET (fastupdate = off)")
        # Turning fastupdate off does not flush the entries already pending (PostgreSQL's GIN docs).
        schema_editor.execute(f"SELECT gin_clean_pending_list('{INDEX}'::regclass)")


def fastupdate_default(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER INDEX {INDEX} RESET (fastupdate)")


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0009_merge_vendor_invitations"),
    ]

    operations = [
        migrations.RunPython(fastupdate_off, fastupdate_default),
    ]
