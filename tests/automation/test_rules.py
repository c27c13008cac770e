"""Managers change days and wording, switch rules off and add their own; templates are safe."""

import pytest
from django.urls import reverse

from oms.automation.messages import check_template, render
from oms.automation.models import EmailLog, Rule
from tests.factories import line_data

pytestmark = pytest.mark.django_db


def _form(rule: Rule, **changes) -> dict:
    data = {
        "name": rule.name,
        "description": rule.description,
        "sequence": rule.sequence,
        "enabled": "on" if rule.enabled else "",
        "trigger": rule.trigger,
        "event_kind": rule.event_kind,
        "anchor": rule.anchor,
        "offset_days": rule.offset_days,
        "min_amount": "" if rule.min_amount is None else rule.min_amount,
        "recipient": rule.recipient,
        "role": rule.role,
        "channel": rule.channel,
        "subject_template": rule.subject_template,
        "body_template": rule.body_template,
        "flag": rule.flag,
        "stop_when": rule.stop_when,
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value not in ("", None)}


def test_default_rules_ship_enabled():
    names = set(Rule.objects.filter(enabled=True).values_list("name", flat=True))
    assert {
        "Quote day 3: check-in email",
        "Quote day 14: decision needed",
        "Reminder day 30: senior contact",
        "Order confirmed: tell operations",
        "Customer update: delivered",
    } <= names


def test_every_shipped_template_is_safe():
    for rule in Rule.objects.all():
        check_template(rule.subject_template)
        check_template(rule.body_template)


def test_manager_changes_days_and_wording(client, manager):
    rule = Rule.objects.get(name="Quote day 7: value email")
    client.force_login(manager)
    response = client.post(
        reverse("automation:rule_edit", kwargs={"pk": rule.pk}),
        _form(rule, offset_days=6, subject_template="Still thinking, {{ contact_name }}?"),
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.offset_days, rule.subject_template) == (6, "Still thinking, {{ contact_name }}?")
    assert rule.updated_by == manager


def test_unsafe_template_is_refused(client, manager):
    rule = Rule.objects.get(name="Quote day 7: value email")
    client.force_login(manager)
    for body in (
        "{{ customer_name|safe }}",
        "{% load static %}",
        "{{ settings.SECRET_KEY }}",
        '{% include "base.html" %}',
        "{% autoescape off %}x{% endautoescape %}",
    ):
        response = client.post(
            reverse("automation:rule_edit", kwargs={"pk": rule.pk}), _form(rule, body_template=body)
        )
        assert response.status_code == 200, body
        assert "not allowed" in response.content.decode() or "Unknown placeholder" in (
            response.content.decode()
        )
    rule.refresh_from_db()
    assert "|safe" not in rule.body_template


def test_manager_switches_a_rule_off(client, manager):
    rule = Rule.objects.get(name="Customer update: work started")
    client.force_login(manager)
    client.post(reverse("automation:rule_toggle", kwargs={"pk": rule.pk}))
    rule.refresh_from_db()
    assert rule.enabled is False


def test_manager_adds_a_rule_that_then_fires(client, manager, finance, order_for, run_outbox):
    client.force_login(manager)
    response = client.post(
        reverse("automation:rule_create"),
        {
            "name": "Big orders: tell finance",
            "sequence": "notification",
            "enabled": "on",
            "trigger": "event",
            "event_kind": "order.confirmed",
            "offset_days": 0,
            "min_amount": "1000",
            "recipient": "role",
            "role": "Finance",
            "channel": "email",
            "subject_template": "Large order {{ order_number }} ({{ amount }})",
            "body_template": "{{ customer_name }} confirmed {{ amount }}.",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    small = order_for("confirmed")
    big = order_for("confirmed", lines=[line_data(unit_price="900.00")])
    run_outbox()
    rule = Rule.objects.get(name="Big orders: tell finance")
    assert not EmailLog.objects.filter(rule=rule, order=small).exists()
    assert EmailLog.objects.get(rule=rule, order=big).subject.startswith(
        f"Large order {big.number}"
    )


def test_customer_recipient_cannot_be_in_app(client, manager):
    rule = Rule.objects.get(name="Customer update: delivered")
    client.force_login(manager)
    response = client.post(
        reverse("automation:rule_edit", kwargs={"pk": rule.pk}), _form(rule, channel="in_app")
    )
    assert "Customers are reached by email." in response.content.decode()


def test_render_shows_only_known_values_and_escapes_html():
    values = {"customer_name": "<b>Acme</b>", "secret": "nope"}
    assert render("Hi {{ customer_name }} {{ secret }}", values, html=True) == (
        "Hi &lt;b&gt;Acme&lt;/b&gt; "
    )
    assert render("Hi {{ customer_name }}", values, html=False) == "Hi <b>Acme</b>"


def test_rule_pages_are_for_managers(client, sales):
    client.force_login(sales)
    assert client.get(reverse("automation:rules")).status_code == 403
