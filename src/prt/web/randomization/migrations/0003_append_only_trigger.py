"""On PostgreSQL, a trigger refuses UPDATE and DELETE of allocation log rows from any client (psql too).

As the audit trail's (audit/migrations/0002): the model and its queryset refuse on every database
(randomization/models.py); the trigger makes the database itself refuse, so no code path, admin
tool or hand-written SQL can rewrite the hash chain in place. A no-op on SQLite.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION prt_allocation_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the allocation log is append-only: % of %.% refused', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER randomization_allocationentry_append_only
    BEFORE UPDATE OR DELETE ON randomization_allocationentry
    FOR EACH ROW EXECUTE FUNCTION prt_allocation_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS randomization_allocationentry_append_only ON randomization_allocationentry;
DROP FUNCTION IF EXISTS prt_allocation_append_only();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)  # no placeholders: % is plpgsql format syntax
    return run


class Migration(migrations.Migration):
    dependencies = [("randomization", "0002_lock_row")]

    operations = [migrations.RunPython(_on_postgresql(FORWARD), _on_postgresql(BACKWARD), elidable=False)]
