"""Two integrations acting on one order at the same moment: one wins, the other hears 409."""

import threading

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from oms.accounts.roles import Role
from orders.models import Order
from tests.api.conftest import token_client
from tests.factories import place_order

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _role_groups():
    """Flushing between transactional tests empties the groups the roles migration made."""
    for role in Role:
        Group.objects.get_or_create(name=role.value)


def test_racing_transitions_one_succeeds_the_other_gets_409(django_user_model):
    from tests.conftest import make_user

    sales = make_user(django_user_model, "race@example.com", Role.SALES)
    order = place_order(sales)
    clients = {"confirm": token_client(sales), "lose": token_client(sales)}
    start = threading.Barrier(2)
    answers: dict[str, int] = {}

    def act(name: str) -> None:
        try:
            start.wait()
            response = clients[name].post(
                f"/api/v1/orders/{order.number}/transitions/{name}",
                {"reason": "Went elsewhere"} if name == "lose" else {},
            )
            answers[name] = response.status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=act, args=(name,)) for name in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(answers.values()) == [200, 409]
    winner = next(name for name, code in answers.items() if code == 200)
    order.refresh_from_db()
    assert order.status == {"confirm": "confirmed", "lose": "lost"}[winner]
    assert order.timeline.filter(kind="transition").count() == 2  # captured, then the winner
    assert Order.objects.count() == 1
