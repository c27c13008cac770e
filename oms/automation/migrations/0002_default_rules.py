"""The sequences the business starts with; managers change, switch off and add to them."""

from django.db import migrations

QUOTE_STOPS = ["quote_accepted", "quote_declined", "quote_superseded", "quote_expired", "order_lost"]
DUNNING_STOPS = ["invoice_paid", "invoice_credited", "invoice_disputed", "invoice_void"]

SIGN_OFF = "\n\nKind regards,\n{{ owner_name }}\n{{ company_name }}"

RULES = [
    # --- quote follow-up ---------------------------------------------------------------
    dict(
        name="Quote day 3: check-in email",
        sequence="quote_followup", position=10, trigger="date", anchor="quote.sent_at",
        offset_days=3, recipient="customer", channel="email", stop_when=QUOTE_STOPS,
        subject_template="Did you receive quote {{ quote_number }}?",
        body_template=(
            "Dear {{ contact_name }},\n\nA few days ago we sent you quote {{ quote_number }} "
            "for {{ order_title }} ({{ amount }}). We wanted to check it reached you and "
            "whether you have any questions.\n\nYou can view, accept or decline it here:"
            + SIGN_OFF
        ),
    ),
    dict(
        name="Quote day 3: prompt salesperson",
        sequence="quote_followup", position=11, trigger="date", anchor="quote.sent_at",
        offset_days=3, recipient="owner", channel="in_app", stop_when=QUOTE_STOPS,
        subject_template="Follow up quote {{ quote_number }} for {{ customer_name }}",
        body_template=(
            "Quote {{ quote_number }} ({{ amount }}) went to {{ customer_name }} three days "
            "ago without an answer. A check-in email has gone out; a call helps too."
        ),
    ),
    dict(
        name="Quote day 7: value email",
        sequence="quote_followup", position=20, trigger="date", anchor="quote.sent_at",
        offset_days=7, recipient="customer", channel="email", stop_when=QUOTE_STOPS,
        subject_template="Quote {{ quote_number }}: what is included",
        body_template=(
            "Dear {{ contact_name }},\n\nJust a reminder of what quote {{ quote_number }} "
            "covers: {{ order_title }}, for {{ amount }}, delivered by a team that "
            "stands behind its work. The quote is valid until {{ valid_until }}.\n\n"
            "If anything needs adjusting, reply to this email and we will revise it."
            + SIGN_OFF
        ),
    ),
    dict(
        name="Quote day 7: escalate to sales manager",
        sequence="quote_followup", position=21, trigger="date", anchor="quote.sent_at",
        offset_days=7, recipient="role", role="Manager", channel="in_app",
        stop_when=QUOTE_STOPS,
        subject_template="Quote {{ quote_number }} unanswered for a week",
        body_template=(
            "{{ customer_name }} has not answered quote {{ quote_number }} ({{ amount }}) "
            "owned by {{ owner_name }} in seven days."
        ),
    ),
    dict(
        name="Quote day 14: decision email",
        sequence="quote_followup", position=30, trigger="date", anchor="quote.sent_at",
        offset_days=14, recipient="customer", channel="email", stop_when=QUOTE_STOPS,
        subject_template="Shall we go ahead with quote {{ quote_number }}?",
        body_template=(
            "Dear {{ contact_name }},\n\nWe would like to plan {{ order_title }} in. Could "
            "you let us know whether you would like to go ahead with quote "
            "{{ quote_number }} ({{ amount }})? It is valid until {{ valid_until }}."
            + SIGN_OFF
        ),
    ),
    dict(
        name="Quote day 14: decision needed",
        sequence="quote_followup", position=31, trigger="date", anchor="quote.sent_at",
        offset_days=14, recipient="owner", channel="in_app", flag="decision_needed",
        stop_when=QUOTE_STOPS,
        subject_template="Decision needed: quote {{ quote_number }}",
        body_template=(
            "Quote {{ quote_number }} for {{ customer_name }} has had no answer in two weeks. "
            "Follow up once more, or close the order as lost."
        ),
    ),
    # --- payment reminders ------------------------------------------------------------
    dict(
        name="Reminder day 7: polite",
        sequence="dunning", position=10, trigger="date", anchor="invoice.due_date",
        offset_days=7, recipient="billing", channel="email", stop_when=DUNNING_STOPS,
        subject_template="Reminder: invoice {{ invoice_number }} is overdue",
        body_template=(
            "Dear {{ contact_name }},\n\nOur records show invoice {{ invoice_number }} for "
            "{{ amount }} was due on {{ due_date }} and {{ amount_due }} is still "
            "outstanding. If you have already paid, thank you, and please ignore this "
            "reminder.\n\nYou can view the invoice here:"
            "\n\nKind regards,\nAccounts, {{ company_name }}"
        ),
    ),
    dict(
        name="Reminder day 14: firmer",
        sequence="dunning", position=20, trigger="date", anchor="invoice.due_date",
        offset_days=14, recipient="billing", channel="email", stop_when=DUNNING_STOPS,
        subject_template="Second reminder: invoice {{ invoice_number }} now 14 days overdue",
        body_template=(
            "Dear {{ contact_name }},\n\nInvoice {{ invoice_number }} was due on "
            "{{ due_date }} and {{ amount_due }} remains unpaid, {{ days_overdue }} days "
            "later. Please arrange payment now, or tell us when it will be made."
            "\n\nKind regards,\nAccounts, {{ company_name }}"
        ),
    ),
    dict(
        name="Reminder day 30: senior contact",
        sequence="dunning", position=30, trigger="date", anchor="invoice.due_date",
        offset_days=30, recipient="senior", channel="email", stop_when=DUNNING_STOPS,
        subject_template="Overdue account: invoice {{ invoice_number }} is 30 days late",
        body_template=(
            "Dear {{ contact_name }},\n\nWe are writing to you directly because invoice "
            "{{ invoice_number }} to {{ customer_name }}, due on {{ due_date }}, is "
            "{{ days_overdue }} days overdue with {{ amount_due }} outstanding, despite two "
            "reminders. Please help us settle it this week."
            "\n\nKind regards,\nAccounts, {{ company_name }}"
        ),
    ),
    dict(
        name="Reminder day 30: finance manager",
        sequence="dunning", position=31, trigger="date", anchor="invoice.due_date",
        offset_days=30, recipient="role", role="Manager", channel="in_app",
        stop_when=DUNNING_STOPS,
        subject_template="Escalation: invoice {{ invoice_number }} 30 days overdue",
        body_template=(
            "{{ customer_name }} owes {{ amount_due }} on invoice {{ invoice_number }}, "
            "due {{ due_date }}. Their senior contact has been written to."
        ),
    ),
    # --- staff notifications --------------------------------------------------------------
    dict(
        name="Order confirmed: tell operations",
        sequence="notification", position=10, trigger="event", event_kind="order.confirmed",
        recipient="role", role="Operations", channel="in_app",
        subject_template="Order {{ order_number }} confirmed: {{ order_title }}",
        body_template="{{ customer_name }} confirmed. Everything about it:\n\n{{ order_details }}",
    ),
    dict(
        name="Draft invoice ready: tell finance",
        sequence="notification", position=20, trigger="event", event_kind="invoice.drafted",
        recipient="role", role="Finance", channel="in_app",
        subject_template="Draft invoice ready for {{ order_number }}",
        body_template=(
            "A draft invoice for {{ customer_name }} ({{ amount }}) is ready for review "
            "in the finance queue."
        ),
    ),
    dict(
        name="Order paid: tell the salesperson",
        sequence="notification", position=30, trigger="event", event_kind="order.paid",
        recipient="owner", channel="in_app",
        subject_template="Paid in full: {{ order_number }}",
        body_template="{{ customer_name }} has paid for {{ order_title }}. The loop is closed.",
    ),
    dict(
        name="Order on hold: tell the owner",
        sequence="notification", position=40, trigger="event", event_kind="order.held",
        recipient="owner", channel="in_app",
        subject_template="On hold: {{ order_number }}",
        body_template="{{ order_title }} for {{ customer_name }} is on hold: {{ reason }}",
    ),
    dict(
        name="Order cancelled: tell the owner",
        sequence="notification", position=50, trigger="event", event_kind="order.cancelled",
        recipient="owner", channel="in_app",
        subject_template="Cancelled: {{ order_number }}",
        body_template="{{ order_title }} for {{ customer_name }} was cancelled: {{ reason }}",
    ),
    dict(
        name="Quote expired: tell the owner",
        sequence="notification", position=60, trigger="event", event_kind="quote.expired",
        recipient="owner", channel="in_app",
        subject_template="Quote {{ quote_number }} expired",
        body_template=(
            "Quote {{ quote_number }} for {{ customer_name }} passed its valid-until date "
            "({{ valid_until }}) unanswered. Extend or revise it before it can be accepted."
        ),
    ),
    # --- customer emails ----------------------------------------------------------------
    dict(
        name="Customer update: order confirmed",
        sequence="customer_update", position=10, trigger="event",
        event_kind="order.confirmed", recipient="customer", channel="email",
        respect_opt_out=True,
        subject_template="Order {{ order_number }} confirmed",
        body_template=(
            "Dear {{ contact_name }},\n\nThank you: your order {{ order_number }} "
            "({{ order_title }}) is confirmed. You can follow its progress here:" + SIGN_OFF
        ),
    ),
    dict(
        name="Customer update: work started",
        sequence="customer_update", position=20, trigger="event", event_kind="order.started",
        recipient="customer", channel="email", respect_opt_out=True,
        subject_template="Work has started on {{ order_number }}",
        body_template=(
            "Dear {{ contact_name }},\n\nWork on {{ order_title }} (order {{ order_number }}) "
            "has started. You can follow its progress here:" + SIGN_OFF
        ),
    ),
    dict(
        name="Customer update: delivered",
        sequence="customer_update", position=30, trigger="event",
        event_kind="order.delivered", recipient="customer", channel="email",
        respect_opt_out=True,
        subject_template="Order {{ order_number }} delivered",
        body_template=(
            "Dear {{ contact_name }},\n\n{{ order_title }} (order {{ order_number }}) has "
            "been delivered. Your invoice will follow shortly. Details are here:" + SIGN_OFF
        ),
    ),
    dict(
        name="Invoice email",
        sequence="customer_update", position=40, trigger="event", event_kind="invoice.sent",
        recipient="billing", channel="email", attach_document=True,
        subject_template="Invoice {{ invoice_number }} from {{ company_name }}",
        body_template=(
            "Dear {{ contact_name }},\n\nPlease find invoice {{ invoice_number }} for "
            "{{ order_title }} (order {{ order_number }}), {{ amount }}, due on "
            "{{ due_date }}. You can view and download it here:"
            "\n\nKind regards,\nAccounts, {{ company_name }}"
        ),
    ),
]


def add_rules(apps, schema_editor):
    Rule = apps.get_model("automation", "Rule")
    for fields in RULES:
        Rule.objects.update_or_create(name=fields["name"], defaults=fields)


def remove_rules(apps, schema_editor):
    Rule = apps.get_model("automation", "Rule")
    Rule.objects.filter(name__in=[fields["name"] for fields in RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("automation", "0001_initial")]

    operations = [migrations.RunPython(add_rules, remove_rules)]
