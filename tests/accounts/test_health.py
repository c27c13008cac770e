import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_health_answers_without_login_once_the_database_answers(client):
    response = client.get(reverse("accounts:health"))
    assert response.status_code == 200
    assert response.content == b"ok"
