"""The timeline is append-only: in the ORM and, on PostgreSQL, in the database itself."""

import pytest
from django.db import DatabaseError, connection, transaction

from orders.models import TimelineEvent
from orders.services import record
from tests.factories import place_order

pytestmark = pytest.mark.django_db


def test_timeline_event_cannot_be_saved_twice(sales):
    event = record(place_order(sales), kind="note", by=sales, message="first")
    event.message = "rewritten"
    with pytest.raises(TypeError, match="append-only"):
        event.save()


def test_timeline_event_cannot_be_deleted_through_the_orm(sales):
    event = record(place_order(sales), kind="note", by=sales, message="keep me")
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        TimelineEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(TypeError):
        TimelineEvent.objects.filter(pk=event.pk).update(message="x")


def test_database_refuses_update_of_a_timeline_row(sales):
    assert connection.vendor == "postgresql"
    event = record(place_order(sales), kind="note", by=sales, message="original")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE orders_timelineevent SET message = 'forged' WHERE id = %s", [event.pk]
        )
    assert TimelineEvent.objects.get(pk=event.pk).message == "original"


def test_database_refuses_delete_of_a_timeline_row(sales):
    event = record(place_order(sales), kind="note", by=sales, message="original")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM orders_timelineevent WHERE id = %s", [event.pk])
    assert TimelineEvent.objects.filter(pk=event.pk).exists()


def test_automation_is_named_when_no_person_acted(sales):
    event = record(place_order(sales), kind="system", automation="quote expiry", message="x")
    assert event.actor is None
    assert event.actor_label == "quote expiry"
