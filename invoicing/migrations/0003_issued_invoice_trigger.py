"""PostgreSQL triggers: an issued invoice and its lines cannot change, whatever path writes.

The ORM refuses the same (Invoice.save, InvoiceLine.save); these catch raw SQL, bulk
updates and anything else that skips the models. Other databases (SQLite in development)
rely on the ORM checks alone.
"""

from django.db import migrations

CREATE = r"""
CREATE OR REPLACE FUNCTION invoicing_invoice_immutable() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'invoice % is never deleted; void or credit it instead',
            COALESCE(OLD.number, OLD.id::text) USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.status <> 'draft' AND (
        NEW.status = 'draft'
        OR NEW.number IS DISTINCT FROM OLD.number
        OR NEW.kind IS DISTINCT FROM OLD.kind
        OR NEW.order_id IS DISTINCT FROM OLD.order_id
        OR NEW.customer_id IS DISTINCT FROM OLD.customer_id
        OR NEW.credited_invoice_id IS DISTINCT FROM OLD.credited_invoice_id
        OR NEW.currency IS DISTINCT FROM OLD.currency
        OR NEW.issue_date IS DISTINCT FROM OLD.issue_date
        OR NEW.due_date IS DISTINCT FROM OLD.due_date
        OR NEW.net_total IS DISTINCT FROM OLD.net_total
        OR NEW.tax_total IS DISTINCT FROM OLD.tax_total
        OR NEW.gross_total IS DISTINCT FROM OLD.gross_total
    ) THEN
        RAISE EXCEPTION 'invoice % is issued and cannot be changed; correct it with a credit note',
            OLD.number USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER invoicing_invoice_immutable
    BEFORE UPDATE OR DELETE ON invoicing_invoice
    FOR EACH ROW EXECUTE FUNCTION invoicing_invoice_immutable();

CREATE OR REPLACE FUNCTION invoicing_line_immutable() RETURNS trigger AS $$
DECLARE
    invoice_ids bigint[];
    issued text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        invoice_ids := ARRAY[NEW.invoice_id];
    ELSIF TG_OP = 'DELETE' THEN
        invoice_ids := ARRAY[OLD.invoice_id];
    ELSE
        invoice_ids := ARRAY[OLD.invoice_id, NEW.invoice_id];
    END IF;
    SELECT COALESCE(number, id::text) INTO issued FROM invoicing_invoice
        WHERE id = ANY(invoice_ids) AND status <> 'draft' LIMIT 1;
    IF issued IS NOT NULL THEN
        RAISE EXCEPTION 'lines of issued invoice % cannot be changed', issued
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER invoicing_line_immutable
    BEFORE INSERT OR UPDATE OR DELETE ON invoicing_invoiceline
    FOR EACH ROW EXECUTE FUNCTION invoicing_line_immutable();
"""

DROP = """
DROP TRIGGER IF EXISTS invoicing_line_immutable ON invoicing_invoiceline;
DROP FUNCTION IF EXISTS invoicing_line_immutable();
DROP TRIGGER IF EXISTS invoicing_invoice_immutable ON invoicing_invoice;
DROP FUNCTION IF EXISTS invoicing_invoice_immutable();
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # One plain execute without parameters: the function bodies contain "%" and ";".
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(CREATE)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("invoicing", "0002_lines_deduct_credit_reason"),
    ]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
