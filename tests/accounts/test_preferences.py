import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_person_turns_notification_emails_off_and_on(client, operations):
    client.force_login(operations)
    url = reverse("accounts:preferences")
    page = client.get(url).content.decode()
    assert 'name="notify_by_email"' in page and "checked" in page  # on by default

    response = client.post(url, {}, follow=True)  # an unticked box is not sent
    assert "Your preferences are saved." in response.content.decode()
    operations.refresh_from_db()
    assert operations.notify_by_email is False

    client.post(url, {"notify_by_email": "on"})
    operations.refresh_from_db()
    assert operations.notify_by_email is True


def test_preferences_change_only_the_signed_in_person(client, operations, finance):
    client.force_login(operations)
    client.post(reverse("accounts:preferences"), {})
    finance.refresh_from_db()
    assert finance.notify_by_email is True
