"""The timeline is append-only in the database too: UPDATE and DELETE raise.

PostgreSQL only; the SQLite development default relies on the ORM guards in TimelineEvent.
"""

from django.db import migrations

INSTALL = """
CREATE OR REPLACE FUNCTION orders_timelineevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'Timeline events are append-only (% refused on orders_timelineevent)', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS orders_timelineevent_append_only ON orders_timelineevent;
CREATE TRIGGER orders_timelineevent_append_only
    BEFORE UPDATE OR DELETE ON orders_timelineevent
    FOR EACH ROW EXECUTE FUNCTION orders_timelineevent_append_only();
"""

REMOVE = """
DROP TRIGGER IF EXISTS orders_timelineevent_append_only ON orders_timelineevent;
DROP FUNCTION IF EXISTS orders_timelineevent_append_only();
"""


def _run(schema_editor, sql: str) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    # No parameters, so the driver leaves the % in RAISE's format string alone.
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(sql)


def install(apps, schema_editor):
    _run(schema_editor, INSTALL)


def remove(apps, schema_editor):
    _run(schema_editor, REMOVE)


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0002_delivery_proof_product_archive"),
    ]

    operations = [
        migrations.RunPython(install, remove),
    ]
